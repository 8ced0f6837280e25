using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedJourneys.Api.Hosting;

/// <summary>Where and how to run a private PostgreSQL cluster.</summary>
/// <param name="DataDirectory">The cluster's folder; created and initialised on first start, reused after.</param>
/// <param name="Durable">False only for throwaway test clusters (fsync off).</param>
/// <param name="OsUser">The OS user that runs PostgreSQL when this process is root (PostgreSQL refuses root).</param>
public sealed record LocalClusterOptions(
    string DataDirectory,
    bool Durable = true,
    string OsUser = "postgres",
    string? BinariesDirectory = null,
    string DatabaseName = "journeys");

/// <summary>
/// A private PostgreSQL cluster under a data folder, run with the server binaries found on the machine:
/// initialised on first start, started on a free loopback port, stopped on dispose.
/// A cluster still running from a killed process is adopted instead of started twice.
/// </summary>
public sealed class LocalPostgresCluster : IAsyncDisposable
{
    private const string SuperUser = "journeys";
    private readonly PostgresBinaries _binaries;
    private readonly string? _runAs;
    private readonly ILogger _logger;
    private bool _stopped;

    public string DataDirectory { get; }
    public int Port { get; }
    public string ConnectionString { get; }
    private string Password { get; }

    private LocalPostgresCluster(PostgresBinaries binaries, string dataDirectory, string? runAs, int port,
        string password, string database, ILogger logger)
    {
        _binaries = binaries;
        _runAs = runAs;
        _logger = logger;
        DataDirectory = dataDirectory;
        Port = port;
        Password = password;
        ConnectionString = ConnectionStringFor(database);
    }

    public string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SuperUser,
        Password = Password,
        Database = database,
    }.ConnectionString;

    public static async Task<LocalPostgresCluster> StartAsync(LocalClusterOptions options, ILogger logger,
        CancellationToken cancellation = default)
    {
        var binaries = PostgresBinaries.Find(options.BinariesDirectory)
            ?? throw new DatabaseUnavailableException(
                "No PostgreSQL server binaries (initdb, pg_ctl, postgres) were found on PATH or under " +
                "/usr/lib/postgresql/*/bin, so the embedded database cannot start. " + PostgresBinaries.InstallHint);

        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        var runAs = Environment.IsPrivilegedProcess ? options.OsUser : null;
        var passwordFile = dataDirectory.TrimEnd(Path.DirectorySeparatorChar) + ".password";

        Directory.CreateDirectory(dataDirectory);
        if (runAs is not null) await PrepareFolderForAsync(runAs, dataDirectory, cancellation);

        var password = await ReadOrCreatePasswordAsync(passwordFile, cancellation);
        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            logger.LogInformation("Initialising a new PostgreSQL cluster in {DataDirectory}", dataDirectory);
            await InitialiseAsync(binaries, runAs, dataDirectory, password, cancellation);
        }

        var port = RunningPort(dataDirectory);
        if (port is not null && await IsRunningAsync(binaries, runAs, dataDirectory, cancellation))
        {
            logger.LogInformation("Adopting the PostgreSQL cluster already running in {DataDirectory} on port {Port}",
                dataDirectory, port);
        }
        else
        {
            port = FreeLoopbackPort();
            await StartServerAsync(binaries, runAs, dataDirectory, port.Value, options.Durable, cancellation);
            logger.LogInformation("Started PostgreSQL in {DataDirectory} on 127.0.0.1:{Port}", dataDirectory, port);
        }

        var cluster = new LocalPostgresCluster(binaries, dataDirectory, runAs, port.Value, password,
            options.DatabaseName, logger);
        await cluster.CreateDatabaseIfMissingAsync(options.DatabaseName, cancellation);
        return cluster;
    }

    public async Task CreateDatabaseIfMissingAsync(string database, CancellationToken cancellation = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionStringFor("postgres"));
        await connection.OpenAsync(cancellation);
        await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (await exists.ExecuteScalarAsync(cancellation) is not null) return;

        await using var create = new NpgsqlCommand(
            $"create database \"{database.Replace("\"", "\"\"")}\" encoding 'UTF8' template template0", connection);
        await create.ExecuteNonQueryAsync(cancellation);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopped) return;
        _stopped = true;
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsync(_runAs, _binaries.PgCtl, ["-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop"],
                CancellationToken.None);
            _logger.LogInformation("Stopped PostgreSQL in {DataDirectory}", DataDirectory);
        }
        catch (Exception e)
        {
            _logger.LogWarning("Could not stop PostgreSQL in {DataDirectory}: {Reason}", DataDirectory, e.Message);
        }
    }

    private static async Task PrepareFolderForAsync(string osUser, string dataDirectory, CancellationToken cancellation)
    {
        try
        {
            await RunAsync(null, "chown", ["-R", $"{osUser}:", dataDirectory], cancellation);
            await RunAsync(null, "chmod", ["700", dataDirectory], cancellation);
            await RunAsync(osUser, "test", ["-w", dataDirectory], cancellation);
        }
        catch (ProcessFailedException e)
        {
            throw new DatabaseUnavailableException(
                $"The embedded database runs PostgreSQL as the OS user '{osUser}' (PostgreSQL refuses to run as root), " +
                $"but that user cannot use the data folder {dataDirectory}: {e.Output.Trim()} " +
                "Make sure the user exists and can reach the folder (its parent folders must be searchable by it), " +
                "or choose another folder with Journeys:Database:DataDirectory.");
        }
    }

    private static async Task<string> ReadOrCreatePasswordAsync(string passwordFile, CancellationToken cancellation)
    {
        if (File.Exists(passwordFile)) return (await File.ReadAllTextAsync(passwordFile, cancellation)).Trim();

        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        await File.WriteAllTextAsync(passwordFile, password, cancellation);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return password;
    }

    private static async Task InitialiseAsync(PostgresBinaries binaries, string? runAs, string dataDirectory,
        string password, CancellationToken cancellation)
    {
        // initdb reads the superuser's password from a file the PostgreSQL OS user can read.
        var pwfile = Path.Combine(Path.GetTempPath(), $"esj-pw-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(pwfile, password, cancellation);
        try
        {
            if (runAs is not null) await RunAsync(null, "chown", [runAs, pwfile], cancellation);
            await RunAsync(runAs, binaries.InitDb,
                ["-D", dataDirectory, "-U", SuperUser, $"--pwfile={pwfile}", "--auth=scram-sha-256",
                 "--encoding=UTF8", "--no-locale", "--no-instructions"], cancellation);
        }
        catch (ProcessFailedException e)
        {
            throw new DatabaseUnavailableException(
                $"initdb could not create the embedded PostgreSQL cluster in {dataDirectory}: {e.Output.Trim()}");
        }
        finally
        {
            File.Delete(pwfile);
        }
    }

    private static async Task StartServerAsync(PostgresBinaries binaries, string? runAs, string dataDirectory,
        int port, bool durable, CancellationToken cancellation)
    {
        var settings = $"-p {port} -c listen_addresses=127.0.0.1 -k {Path.GetTempPath().TrimEnd('/')} -c max_connections=200";
        if (!durable) settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
        var log = Path.Combine(dataDirectory, "postgres.log");
        try
        {
            await RunAsync(runAs, binaries.PgCtl, ["-D", dataDirectory, "-l", log, "-w", "-t", "60", "-o", settings, "start"],
                cancellation);
        }
        catch (ProcessFailedException e)
        {
            var tail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(5)) : "";
            throw new DatabaseUnavailableException(
                $"PostgreSQL in {dataDirectory} did not start: {e.Output.Trim()} {tail}".Trim());
        }
    }

    private static async Task<bool> IsRunningAsync(PostgresBinaries binaries, string? runAs, string dataDirectory,
        CancellationToken cancellation)
    {
        try
        {
            await RunAsync(runAs, binaries.PgCtl, ["-D", dataDirectory, "status"], cancellation);
            return true;
        }
        catch (ProcessFailedException)
        {
            return false;
        }
    }

    // postmaster.pid: line 4 is the port of a running (or crashed) server.
    private static int? RunningPort(string dataDirectory)
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile)) return null;
        var lines = File.ReadAllLines(pidFile);
        return lines.Length > 3 && int.TryParse(lines[3].Trim(), out var port) ? port : null;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<string> RunAsync(string? runAs, string program, IReadOnlyList<string> arguments,
        CancellationToken cancellation)
    {
        var start = new ProcessStartInfo
        {
            FileName = runAs is null ? program : "runuser",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (runAs is not null)
        {
            foreach (var a in new[] { "-u", runAs, "--", program }) start.ArgumentList.Add(a);
        }
        foreach (var argument in arguments) start.ArgumentList.Add(argument);

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ProcessFailedException($"{start.FileName} could not be run: {e.Message}");
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellation);
            var error = process.StandardError.ReadToEndAsync(cancellation);
            await process.WaitForExitAsync(cancellation);
            var text = (await output) + (await error);
            if (process.ExitCode != 0) throw new ProcessFailedException(text);
            return text;
        }
    }

    private sealed class ProcessFailedException(string output) : Exception(output)
    {
        public string Output { get; } = output;
    }
}
