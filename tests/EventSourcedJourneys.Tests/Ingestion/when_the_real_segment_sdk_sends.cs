using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedJourneys.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EventSourcedJourneys.Tests.Ingestion;

/// <summary>
/// Segment's own Node SDK (@segment/analytics-node 3.1.0 from npm, installed by `npm ci` from tests/clients/segment)
/// against the real server process: its batching, and its retry after an answer that got lost (a proxy forwards the
/// first batch to the server, then answers 503 as if the response never arrived).
/// </summary>
public sealed class when_the_real_segment_sdk_sends(PostgresServer postgres) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"esj-sdk-{Guid.NewGuid():N}");
    private ApiProcess? _api;
    private WebApplication? _proxy;
    private int _batchRequests;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        var database = await postgres.CreateDatabaseAsync("esjsdk");
        _api = ApiProcess.Start(_folder, new Dictionary<string, string?>
        {
            ["ConnectionStrings__Journeys"] = database,
            ["Journeys__DemoWorkspace__KeysFile"] = Path.Combine(_folder, "demo-workspace.env"),
        });
        await _api.WaitUntilHealthyAsync(Deadline);
        _proxy = await StartLossyProxyAsync(_api.BaseUrl);
    }

    [Fact]
    public async Task its_batches_and_retries_are_stored_once_each_on_one_contact()
    {
        var run = $"sdk{Guid.NewGuid():N}"[..11];
        var output = await RunNodeAsync("send.mjs", new()
        {
            ["JOURNEYS_HOST"] = _proxy!.Urls.First(),
            ["JOURNEYS_WRITE_KEY"] = Key("JOURNEYS_WRITE_KEY"),
            ["RUN_ID"] = run,
        });
        var report = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
        Assert.Empty(report.GetProperty("errors").EnumerateArray());
        // Ten calls, flushAt 5: two batches, the first one sent at least twice (a loaded machine may add a retry after
        // a client time-out; what is stored must not change).
        var requests = report.GetProperty("requests").EnumerateArray().Select(r => r.GetInt32()).ToList();
        Assert.All(requests, size => Assert.Equal(5, size));
        Assert.True(requests.Count >= 3, $"the SDK sent {requests.Count} batch requests; the lost answer must have made it retry");
        Assert.True(_batchRequests >= 3, $"the server side saw {_batchRequests} batch requests");

        using var http = new HttpClient { BaseAddress = new Uri(_api!.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key("JOURNEYS_API_KEY"));
        var contact = await http.GetFromJsonAsync<JsonElement>($"/contacts?userId={run}-user");
        Assert.Equal(10, contact.GetProperty("events").GetInt32());
        Assert.Equal([$"{run}-device", $"{run}-legacy"], contact.GetProperty("anonymousIds").EnumerateArray().Select(i => i.GetString()).Order());
        Assert.Equal($"{run}@example.com", contact.GetProperty("addresses").GetProperty("email").GetString());
        Assert.Equal($"{run}-push-token", contact.GetProperty("addresses").GetProperty("pushTokens")[0].GetProperty("token").GetString());
        Assert.Equal("unsubscribed", contact.GetProperty("subscriptions").GetProperty("sms").GetProperty("status").GetString());
        Assert.Equal([$"{run}-company"], contact.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));

        var page = await http.GetFromJsonAsync<JsonElement>(
            $"/contacts/{contact.GetProperty("id").GetString()}/events?type=track,identify,page,screen,group,alias&limit=1000");
        var calls = page.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(10, calls.Select(c => c.GetProperty("messageId").GetString()).Distinct().Count());
        Assert.Equal(["alias", "group", "identify", "page", "screen", "track", "track", "track", "track", "track"],
            calls.Select(c => c.GetProperty("type").GetString()).Order());
        Assert.Equal("App Installed", calls.First(c => c.GetProperty("type").GetString() == "track").GetProperty("event").GetString());
    }

    private string Key(string name) => File.ReadAllLines(Path.Combine(_folder, "demo-workspace.env"))
        .Single(l => l.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];

    /// <summary>Forwards everything to the server; the first /v1/batch is stored there but answered 503 to the SDK.</summary>
    private async Task<WebApplication> StartLossyProxyAsync(string target)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var forward = new HttpClient { BaseAddress = new Uri(target) };
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), context.Request.Path + context.Request.QueryString)
            {
                Content = new ByteArrayContent(body.ToArray()),
            };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(context.Request.ContentType ?? "application/json");
            if (context.Request.Headers.Authorization.Count > 0) request.Headers.TryAddWithoutValidation("Authorization", context.Request.Headers.Authorization.ToString());
            using var response = await forward.SendAsync(request);
            var answer = await response.Content.ReadAsByteArrayAsync();

            if (context.Request.Path == "/v1/batch" && Interlocked.Increment(ref _batchRequests) == 1)
            {
                context.Response.StatusCode = (int)HttpStatusCode.ServiceUnavailable;
                return;
            }
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
            await context.Response.Body.WriteAsync(answer);
        });
        await app.StartAsync();
        return app;
    }

    private static string ClientFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "tests", "clients", "segment");
            if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
        }
        throw new InvalidOperationException("tests/clients/segment was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Installs the pinned SDK with `npm ci` when it is missing, then runs a script with node.</summary>
    private static async Task<string> RunNodeAsync(string script, Dictionary<string, string> environment)
    {
        var folder = ClientFolder();
        if (!File.Exists(Path.Combine(folder, "node_modules", "@segment", "analytics-node", "package.json")))
            await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], folder, []);
        return await RunAsync("node", [script], folder, environment);
    }

    private static async Task<string> RunAsync(string file, string[] arguments, string folder, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Deadline);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}\n{await errors}");
        return await output;
    }

    public async ValueTask DisposeAsync()
    {
        if (_proxy is not null) await _proxy.DisposeAsync();
        if (_api is not null) await _api.DisposeAsync();
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
