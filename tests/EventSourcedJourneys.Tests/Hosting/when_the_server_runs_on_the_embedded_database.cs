using System.Net;
using System.Net.Http.Json;
using EventSourcedJourneys.Api.Hosting;
using EventSourcedJourneys.Tests.Infrastructure;

namespace EventSourcedJourneys.Tests.Hosting;

/// <summary>
/// The README's run command, as a real process: no database set-up by hand, data that survives a killed server,
/// and one clear message (never a stack trace) when no database can be had.
/// </summary>
public sealed class when_the_server_runs_on_the_embedded_database : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5); // a first start compiles handlers and creates the schema; a loaded machine is slow at both
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"esj-process-{Guid.NewGuid():N}");

    public when_the_server_runs_on_the_embedded_database()
    {
        Directory.CreateDirectory(_folder);
        // PostgreSQL runs as its own OS user when the tests run as root; it must reach the data folder.
        if (Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(_folder, (UnixFileMode)Convert.ToInt32("755", 8));
    }

    private Dictionary<string, string?> Embedded() => new()
    {
        ["Journeys__Database__DataDirectory"] = Path.Combine(_folder, "postgres"),
        ["Journeys__DemoWorkspace__KeysFile"] = Path.Combine(_folder, "demo-workspace.env"),
    };

    private string DemoApiKey() => File.ReadAllLines(Path.Combine(_folder, "demo-workspace.env"))
        .Single(l => l.StartsWith("JOURNEYS_API_KEY=", StringComparison.Ordinal))["JOURNEYS_API_KEY=".Length..];

    [Fact]
    public async Task data_survives_a_killed_server_and_a_graceful_stop_stops_postgres()
    {
        var contact = Guid.NewGuid();
        string location;
        await using (var first = ApiProcess.Start(_folder, Embedded()))
        {
            await first.WaitUntilHealthyAsync(StartTimeout);
            using var http = new HttpClient { BaseAddress = new Uri(first.BaseUrl) };
            http.DefaultRequestHeaders.Authorization = new("Bearer", DemoApiKey());
            var created = await http.PostAsJsonAsync($"/contacts/{contact}/messages",
                new { channel = "sms", template = "vip-expiry", delay = "P1D" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            location = created.Headers.Location!.ToString();
            first.Kill();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        await using var second = ApiProcess.Start(_folder, Embedded());
        await second.WaitUntilHealthyAsync(StartTimeout);
        using (var http = new HttpClient { BaseAddress = new Uri(second.BaseUrl) })
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", DemoApiKey());
            var message = await http.GetFromJsonAsync<Dictionary<string, object>>(location);
            Assert.Equal(contact.ToString(), message!["contactId"].ToString());
            Assert.Equal("vip-expiry", message["template"].ToString());
            Assert.Equal("scheduled", message["status"].ToString());
            Assert.Equal("sms", message["channel"].ToString());
        }

        await second.StopAsync();
        Assert.False(File.Exists(Path.Combine(_folder, "postgres", "postmaster.pid")), second.Output);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Port=1;Database=journeys;Username=journeys;Password=x;Timeout=3", "Cannot use the PostgreSQL database 'journeys' at 127.0.0.1:1")]
    [InlineData("Host=127.0.0.1;Flavour=vanilla", "is not a valid PostgreSQL connection string")]
    public async Task a_bad_connection_string_ends_with_one_clear_message(string connectionString, string expected)
    {
        await using var api = ApiProcess.Start(_folder, new Dictionary<string, string?> { ["ConnectionStrings__Journeys"] = connectionString });

        Assert.Equal(1, await api.WaitForExitAsync(StartTimeout));
        Assert.Contains(expected, api.Output);
        Assert.Contains("EventSourcedJourneys cannot start", api.Output);
        Assert.DoesNotContain("   at ", api.Output);
    }

    [Fact]
    public async Task without_postgresql_binaries_it_says_what_to_install()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_folder, "no-binaries")).FullName;
        var environment = Embedded();
        environment["Journeys__Database__BinariesDirectory"] = empty;
        await using var api = ApiProcess.Start(_folder, environment);

        Assert.Equal(1, await api.WaitForExitAsync(StartTimeout));
        Assert.Contains(PostgresBinaries.InstallHint, api.Output);
        Assert.DoesNotContain("   at ", api.Output);
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
