using Alba;
using EventSourcedJourneys.Api.Workspaces;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using EventSourcedJourneys.Dispatch.Tests.Channels;
using NodaTime;
using NodaTime.Testing;
using Npgsql;
using Wolverine;
using Wolverine.Runtime;

namespace EventSourcedJourneys.Tests.Infrastructure;

/// <summary>
/// The real API (Marten, Wolverine, the async daemon) on a database of its own, with a FakeClock driving
/// every decision and event timestamp. Shared by the tests of one collection; <see cref="ResetAsync"/>
/// before each test gives it an empty store with two workspaces.
/// </summary>
public sealed class AppFixture(PostgresServer postgres) : IAsyncLifetime
{
    public static readonly Instant Start = Instant.FromUtc(2026, 12, 1, 8, 0);

    /// <summary>The operator key of the admin API (Journeys:AdminKey).</summary>
    public const string AdminKey = "esj_admin_test_operator_key";

    public IAlbaHost Host { get; private set; } = null!;
    public FakeClock Clock { get; } = new(Start);
    public string ConnectionString { get; private set; } = "";
    public IssuedKeys Acme { get; private set; } = null!;
    public IssuedKeys Globex { get; private set; } = null!;

    /// <summary>A real SMTP server the email channel delivers to.</summary>
    public LocalSmtpServer Smtp { get; private set; } = null!;

    /// <summary>A real HTTP server standing in for Twilio (sms, whatsapp) and FCM (push).</summary>
    public LocalHttpReceiver Providers { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        ConnectionString = await postgres.CreateDatabaseAsync("esj");
        Smtp = LocalSmtpServer.Start();
        Providers = await LocalHttpReceiver.StartAsync();
        Providers.Respond = request => request.Path.Contains("/Messages.json")
            ? new Reply(201, $"{{\"sid\": \"SM{Guid.NewGuid():N}\"}}")
            : new Reply(200, $"{{\"name\": \"projects/test/messages/{Guid.NewGuid():N}\"}}");
        Host = await AlbaHost.For<Program>(builder =>
        {
            builder.UseSetting("ConnectionStrings:Journeys", ConnectionString);
            builder.UseSetting("Journeys:DemoWorkspace:Enabled", "false");
            builder.UseSetting("Journeys:AdminKey", AdminKey);
            builder.UseSetting("Journeys:ScheduledPollingMilliseconds", "100");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            // The in-memory test server has no body-size feature; the app enforces its own limit (RequestBodyLimit),
            // so routing's warning about it is noise that buries real failures in CI output.
            builder.UseSetting("Logging:LogLevel:Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware", "Error");
            builder.UseSetting("Journeys:Channels:Smtp:Host", "127.0.0.1");
            builder.UseSetting("Journeys:Channels:Smtp:Port", Smtp.Port.ToString());
            builder.UseSetting("Journeys:Channels:Smtp:Security", "None");
            builder.UseSetting("Journeys:Channels:Smtp:FromAddress", "news@shop.example");
            builder.UseSetting("Journeys:Channels:Twilio:BaseUrl", Providers.BaseUrl);
            builder.UseSetting("Journeys:Channels:Twilio:AccountSid", "ACtest");
            builder.UseSetting("Journeys:Channels:Twilio:AuthToken", "secret");
            builder.UseSetting("Journeys:Channels:Twilio:SmsFrom", "+15550001111");
            builder.UseSetting("Journeys:Channels:Fcm:BaseUrl", Providers.BaseUrl);
            builder.UseSetting("Journeys:Channels:Fcm:ProjectId", "test");
            builder.UseSetting("Journeys:Channels:Fcm:AccessToken", "token");
            builder.ConfigureServices(services =>
            {
                services.AddSingleton<IClock>(Clock);
                services.RunWolverineInSoloMode();
                services.MartenDaemonModeIsSolo();
                services.DisableAllExternalWolverineTransports();
            });
        });
        // Alba's in-memory server allows synchronous I/O; Kestrel does not, and a synchronous write that passes here fails in
        // production (it broke the audit export after its first line). Behave like Kestrel.
        Host.Server.AllowSynchronousIO = false;
        await ResetAsync();
    }

    /// <summary>Empties the store, rewinds the clock and creates the workspaces "acme" and "globex".</summary>
    public async Task ResetAsync()
    {
        Clock.Reset(Start);
        // In solo mode the test owns the async daemon: stop it, empty the event store, documents and Wolverine's
        // envelopes (so no scheduled message of an earlier test fires in this one), then start it again.
        var daemon = Host.Services.GetRequiredService<Marten.Events.Daemon.Coordination.IProjectionCoordinator>()
            .DaemonForMainDatabase();
        await daemon.StopAllAsync();
        await RetryOnDeadlockAsync(() => Host.DocumentStore().Advanced.ResetAllData());
        await RetryOnDeadlockAsync(EmptyReportTablesAsync);
        await RetryOnDeadlockAsync(() => Host.Services.GetRequiredService<IWolverineRuntime>().Storage.Admin.ClearAllAsync());
        await daemon.StartAllAsync();
        var registry = Host.Services.GetRequiredService<WorkspaceRegistry>();
        Acme = await registry.CreateAsync("acme", "Acme Corp");
        Globex = await registry.CreateAsync("globex", "Globex");
    }

    /// <summary>Empties tables (Marten's store, Wolverine's envelopes). A message of the previous test still being handled
    /// can hold rows the emptying wants, and PostgreSQL then breaks the tie with a deadlock error: try again.</summary>
    private static async Task RetryOnDeadlockAsync(Func<Task> empty)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await empty();
                return;
            }
            catch (Exception e) when (attempt < 10 && IsDeadlock(e))
            {
                await Task.Yield();
            }
        }

        static bool IsDeadlock(Exception? e)
        {
            for (; e is not null; e = e.InnerException)
                if (e is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected }) return true;
            return false;
        }
    }

    /// <summary>
    /// Moves the FakeClock forward and every durable scheduled message with it, so that waits of minutes or days pass
    /// in a test without sleeping. Waits are scheduled as real-time delays from the fake now; pulling every scheduled
    /// envelope earlier by the same span keeps "due by the fake clock" and "due by the database clock" the same thing.
    /// Always move the clock with this method, never with Clock.Advance, once anything is scheduled.
    /// </summary>
    public async Task AdvanceClockAsync(Duration by)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await WaitUntilSettledAsync(connection);
        Clock.Advance(by);
        await using var command = new NpgsqlCommand(
            $"update {await IncomingEnvelopesTableAsync(connection)} set execution_time = execution_time - make_interval(secs => @seconds) " +
            "where status = 'Scheduled'", connection);
        command.Parameters.AddWithValue("seconds", by.TotalSeconds);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Waits until the work already started has run: every appended event relayed by the reactions subscription, and no
    /// envelope waiting to be handled (incoming, in the outbox, or scheduled and already due). Moving the clock while a
    /// wait is still being scheduled would shift it twice (it is computed from the new fake now, then pulled earlier).
    /// </summary>
    public async Task WaitUntilSettledAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await WaitUntilSettledAsync(connection);
    }

    private async Task WaitUntilSettledAsync(NpgsqlConnection connection)
    {
        var envelopes = await IncomingEnvelopesTableAsync(connection);
        var outgoing = envelopes.Replace("wolverine_incoming_envelopes", "wolverine_outgoing_envelopes");
        var events = Host.DocumentStore().Options.Events.DatabaseSchemaName;
        var pending = $"select greatest((select coalesce(max(seq_id), 0) from {events}.mt_events) - " +
                      $"coalesce((select max(last_seq_id) from {events}.mt_event_progression where name like 'Reactions%'), 0), 0) " +
                      $"+ (select count(*) from {envelopes} where status = 'Incoming' or (status = 'Scheduled' and execution_time <= now())) " +
                      $"+ (select count(*) from {outgoing})";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            await using var command = new NpgsqlCommand(pending, connection);
            var left = (long)(await command.ExecuteScalarAsync())!;
            if (left == 0) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The app did not settle within 60 s before the clock was moved ({left} events or envelopes pending).");
            await Task.Delay(20); // polling a condition in the database, not waiting a fixed time for work
        }
    }

    /// <summary>The report read models live in tables of their own, which Marten's reset leaves alone.</summary>
    private async Task EmptyReportTablesAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"truncate {EventSourcedJourneys.Projections.Reports.CampaignReport.TableName}, " +
            $"{EventSourcedJourneys.Projections.Reports.AttributionReport.TableName}, " +
            $"{EventSourcedJourneys.Projections.Reports.ReportGenerations.TableName}", connection);
        await command.ExecuteNonQueryAsync();
    }

    private string? _incomingEnvelopes;

    private async Task<string> IncomingEnvelopesTableAsync(NpgsqlConnection connection)
    {
        if (_incomingEnvelopes is not null) return _incomingEnvelopes;
        await using var find = new NpgsqlCommand(
            "select table_schema from information_schema.tables where table_name = 'wolverine_incoming_envelopes'", connection);
        var schema = (string?)await find.ExecuteScalarAsync()
            ?? throw new InvalidOperationException("Wolverine's envelope table was not found.");
        return _incomingEnvelopes = $"\"{schema}\".wolverine_incoming_envelopes";
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
        if (Smtp is not null) await Smtp.DisposeAsync();
        if (Providers is not null) await Providers.DisposeAsync();
    }
}

