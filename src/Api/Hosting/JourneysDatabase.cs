using Npgsql;

namespace EventSourcedJourneys.Api.Hosting;

/// <summary>
/// The PostgreSQL database of this process: <c>ConnectionStrings:Journeys</c> when set, else the embedded
/// default, a private cluster under <c>Journeys:Database:DataDirectory</c> (default .data/postgres) that is
/// created on the first run, started on every run and stopped on shutdown. See docs/adr/0002.
/// </summary>
public sealed class JourneysDatabase(IConfiguration configuration, ILogger<JourneysDatabase> logger) : IAsyncDisposable
{
    private LocalPostgresCluster? _cluster;
    private string? _connectionString;

    public string ConnectionString =>
        _connectionString ?? throw new InvalidOperationException("The database has not been opened yet (JourneysDatabase.OpenAsync).");

    public bool IsEmbedded => _cluster is not null;

    /// <summary>Starts the embedded cluster if needed and proves the database answers; throws
    /// <see cref="DatabaseUnavailableException"/> with a message for humans otherwise.</summary>
    public async Task OpenAsync(CancellationToken cancellation = default)
    {
        if (_connectionString is not null) return;

        var configured = configuration.GetConnectionString("Journeys");
        if (string.IsNullOrWhiteSpace(configured))
        {
            var section = configuration.GetSection("Journeys:Database");
            _cluster = await LocalPostgresCluster.StartAsync(new LocalClusterOptions(
                section["DataDirectory"] ?? ".data/postgres",
                OsUser: section["OsUser"] ?? "postgres",
                BinariesDirectory: section["BinariesDirectory"]), logger, cancellation);
            _connectionString = WithPreparedStatements(_cluster.ConnectionString);
        }
        else
        {
            _connectionString = WithPreparedStatements(Validated(configured));
        }

        await ProveItAnswersAsync(_connectionString, cancellation);
    }

    /// <summary>
    /// Npgsql prepares the statements a connection runs repeatedly (at most 100 per connection, from the second use on):
    /// the engine and ingestion run the same few dozen statements all day, and PostgreSQL spent about 40 % of its statement
    /// time planning them again (docs/benchmarks.md). A connection string that sets <c>Max Auto Prepare</c> itself keeps
    /// its value (0 turns preparation off, e.g. behind a pooler in transaction mode that cannot keep prepared statements).
    /// </summary>
    private static string WithPreparedStatements(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (connectionString.Contains("Max Auto Prepare", StringComparison.OrdinalIgnoreCase)
            || connectionString.Contains("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)) return connectionString;
        builder.MaxAutoPrepare = 100;
        builder.AutoPrepareMinUsages = 2;
        return builder.ConnectionString;
    }

    private static string Validated(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (builder.Timeout > 15) builder.Timeout = 15;
            return builder.ConnectionString;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new DatabaseUnavailableException(
                $"ConnectionStrings:Journeys is not a valid PostgreSQL connection string ({e.Message}). " +
                "Example: 'Host=localhost;Port=5432;Database=journeys;Username=journeys;Password=...'. " +
                "Remove it to use the embedded database.");
        }
    }

    private static async Task ProveItAnswersAsync(string connectionString, CancellationToken cancellation)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellation);
            await using var command = new NpgsqlCommand("select 1", connection);
            await command.ExecuteScalarAsync(cancellation);
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
        {
            throw new DatabaseUnavailableException(
                $"Cannot use the PostgreSQL database '{builder.Database}' at {builder.Host}:{builder.Port} as user " +
                $"'{builder.Username}': {e.Message} Check ConnectionStrings:Journeys, or remove it to use the embedded database.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
