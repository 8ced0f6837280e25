using DotNet.Testcontainers.Builders;
using EventSourcedJourneys.Api.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Testcontainers.PostgreSql;

[assembly: AssemblyFixture(typeof(EventSourcedJourneys.Tests.Infrastructure.PostgresServer))]

namespace EventSourcedJourneys.Tests.Infrastructure;

/// <summary>
/// One PostgreSQL server for the whole test run: a Testcontainers container when a Docker engine answers,
/// else the server named by JOURNEYS_TEST_POSTGRES, else a private throwaway cluster started from the
/// machine's PostgreSQL binaries. Each test collection gets a database of its own on it.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string ConnectionStringVariable = "JOURNEYS_TEST_POSTGRES";

    private PostgreSqlContainer? _container;
    private LocalPostgresCluster? _cluster;
    private string? _temporaryFolder;

    public string Source { get; private set; } = "";
    public string AdminConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        if (await TryContainerAsync()) return;

        var configured = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            AdminConnectionString = configured;
            Source = ConnectionStringVariable;
            return;
        }

        _temporaryFolder = Path.Combine(Path.GetTempPath(), $"esj-tests-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_temporaryFolder);
        if (Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows())
        {
            // The PostgreSQL OS user must be able to reach the cluster folder.
            File.SetUnixFileMode(_temporaryFolder, (UnixFileMode)Convert.ToInt32("755", 8));
        }
        _cluster = await LocalPostgresCluster.StartAsync(
            new LocalClusterOptions(Path.Combine(_temporaryFolder, "postgres"), Durable: false, DatabaseName: "postgres"),
            NullLogger.Instance);
        AdminConnectionString = _cluster.ConnectionString;
        Source = "local cluster";
    }

    private async Task<bool> TryContainerAsync()
    {
        try
        {
            _container = new PostgreSqlBuilder("postgres:15-alpine").Build();
            await _container.StartAsync();
            AdminConnectionString = _container.GetConnectionString();
            Source = "Testcontainers";
            return true;
        }
        catch (DockerUnavailableException)
        {
            _container = null;
            return false;
        }
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"create database \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        if (_container is not null) await _container.DisposeAsync();
        if (_cluster is not null) await _cluster.DisposeAsync();
        if (_temporaryFolder is not null)
        {
            try { Directory.Delete(_temporaryFolder, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
