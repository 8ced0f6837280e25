using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EventSourcedJourneys.Dispatch.Tests.Channels;

/// <summary>A request as the receiving server saw it, raw body included.</summary>
public sealed record CapturedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, string? ContentType)
{
    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);

    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : throw new Xunit.Sdk.XunitException($"No header {name}.");
}

/// <summary>How the receiver answers: a status, a body, headers; or no answer at all until the client gives up.</summary>
public sealed record Reply(int Status, string Body = "", string ContentType = "application/json", IReadOnlyDictionary<string, string>? Headers = null)
{
    public static readonly Reply Hang = new(0);
}

/// <summary>
/// A real HTTP server (Kestrel on 127.0.0.1, a free port) standing in for a webhook endpoint, Twilio or FCM. It records
/// every request before it answers, so a request is captured by the time the client has its response.
/// </summary>
public sealed class LocalHttpReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<CapturedRequest> requests = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly SemaphoreSlim arrived = new(0);

    public Func<CapturedRequest, Reply> Respond { get; set; } = _ => new Reply(200, "{}");

    public string BaseUrl { get; private set; } = "";

    public IReadOnlyList<CapturedRequest> Requests => requests.ToList();

    private LocalHttpReceiver()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        app = builder.Build();
        app.Run(HandleAsync);
    }

    public static async Task<LocalHttpReceiver> StartAsync()
    {
        var receiver = new LocalHttpReceiver();
        await receiver.app.StartAsync();
        receiver.BaseUrl = receiver.app.Urls.Single().TrimEnd('/');
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var captured = new CapturedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            buffer.ToArray(), context.Request.ContentType);
        requests.Enqueue(captured);
        arrived.Release();

        var reply = Respond(captured);
        if (reply == Reply.Hang)
        {
            // No answer: wait until the client gives up (or the test ends), as a stalled provider would.
            using var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping.Token);
            var released = new TaskCompletionSource();
            await using (both.Token.Register(() => released.TrySetResult())) await released.Task;
            return;
        }
        context.Response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>()) context.Response.Headers[name] = value;
        context.Response.ContentType = reply.ContentType;
        await context.Response.WriteAsync(reply.Body);
    }

    /// <summary>The requests captured so far once <paramref name="count"/> have arrived, or a failure at the deadline.</summary>
    public async Task<IReadOnlyList<CapturedRequest>> WaitForAsync(int count, TimeSpan? within = null)
    {
        using var deadline = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(10));
        try
        {
            while (requests.Count < count) await arrived.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{requests.Count} of {count} requests arrived in time.");
        }
        return requests.ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await app.StopAsync();
        await app.DisposeAsync();
        stopping.Dispose();
        arrived.Dispose();
    }
}
