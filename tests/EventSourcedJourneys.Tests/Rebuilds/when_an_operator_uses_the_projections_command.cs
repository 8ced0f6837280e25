using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Rules;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Rebuilds;

/// <summary>
/// <c>dotnet run --project src/Api -- projections …</c> as a real process, against the database a running server uses
/// (here the test server's) and on the embedded default with no database configured.
/// </summary>
public sealed class when_an_operator_uses_the_projections_command(AppFixture app) : IntegrationTest(app), IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(180);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"esj-command-{Guid.NewGuid():N}");

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Directory.CreateDirectory(_folder);
        if (Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(_folder, (UnixFileMode)Convert.ToInt32("755", 8));
    }

    private Dictionary<string, string?> OnTheServersDatabase() => new() { ["ConnectionStrings__Journeys"] = App.ConnectionString };

    [Fact]
    public async Task it_rebuilds_a_read_model_blue_green_printing_progress_while_the_server_runs()
    {
        var now = App.Clock.GetCurrentInstant();
        await App.TrackAsync("/v1/identify", new { userId = "ana", traits = new { first_name = "Ana" }, timestamp = At(now) });
        var profile = await App.GetAsync("/contacts?userId=ana");

        var rebuilt = await ApiCommand.RunAsync(_folder, OnTheServersDatabase(), CommandTimeout,
            "projections", "rebuild", "--projection", "contact-profile");

        Assert.True(rebuilt.ExitCode == 0, rebuilt.Output);
        Assert.Contains("contact-profile: rebuilding", rebuilt.Output);
        Assert.Matches(@"contact-profile: rebuilt, generation 1, \d+ events \(100%\)", rebuilt.Output);
        Assert.Equal(profile.GetRawText(), (await App.GetAsync("/contacts?userId=ana")).GetRawText());

        var listed = await ApiCommand.RunAsync(_folder, OnTheServersDatabase(), CommandTimeout, "projections", "--list");
        Assert.True(listed.ExitCode == 0, listed.Output);
        Assert.Matches(@"contact-profile\s+1\s+2026-", listed.Output);
        Assert.Matches(@"scheduled-message\s+0\s+never", listed.Output);
        Assert.Equal(1, await App.GenerationAsync("contact-profile"));
    }

    [Fact]
    public async Task an_unknown_name_or_argument_is_refused_with_the_usage()
    {
        var unknown = await ApiCommand.RunAsync(_folder, OnTheServersDatabase(), CommandTimeout, "projections", "--rebuild", "funnel-of-doom");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Matches(@"Unknown projection 'funnel-of-doom'\. Projections: .*contact-delivery-log, contact-profile, ", unknown.Output);

        var wrong = await ApiCommand.RunAsync(_folder, OnTheServersDatabase(), CommandTimeout, "projections", "--everything");
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("Unknown argument '--everything'.", wrong.Output);
        Assert.Contains("Usage: projections list", wrong.Output);
    }

    [Fact]
    public async Task on_the_embedded_default_it_starts_and_stops_its_own_postgresql()
    {
        var embedded = new Dictionary<string, string?>
        {
            ["Journeys__Database__DataDirectory"] = Path.Combine(_folder, "postgres"),
            ["Journeys__DemoWorkspace__KeysFile"] = Path.Combine(_folder, "demo-workspace.env"),
        };

        var rebuilt = await ApiCommand.RunAsync(_folder, embedded, CommandTimeout, "projections", "rebuild");

        Assert.True(rebuilt.ExitCode == 0, rebuilt.Output);
        foreach (var name in new[] { "contact-delivery-log", "contact-profile", "inbox", "live-rule-set", "rule-state", "scheduled-message" })
            Assert.Contains($"{name}: rebuilt, generation 1", rebuilt.Output);
        Assert.False(File.Exists(Path.Combine(_folder, "postgres", "postmaster.pid")), rebuilt.Output);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
