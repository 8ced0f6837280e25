using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Protocol;
using SmtpServer.Storage;
using SmtpServerHost = SmtpServer.SmtpServer;
using SmtpServiceProvider = SmtpServer.ComponentModel.ServiceProvider;

namespace EventSourcedJourneys.Dispatch.Tests.Channels;

/// <summary>A message the SMTP server accepted: the envelope (MAIL FROM, RCPT TO) and the parsed MIME message.</summary>
public sealed record ReceivedMail(string From, IReadOnlyList<string> To, MimeMessage Message);

/// <summary>
/// A real SMTP server (the SmtpServer library) on 127.0.0.1 and a free port. <see cref="Answer"/> decides the reply to
/// DATA (250 by default), so a test can make it refuse a message permanently (5xx) or for now (4xx).
/// </summary>
public sealed class LocalSmtpServer : IAsyncDisposable
{
    private readonly SmtpServerHost server;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task running;
    private readonly Store store;

    public int Port { get; }

    public Func<SmtpResponse> Answer { get; set; } = () => SmtpResponse.Ok;

    public IReadOnlyList<ReceivedMail> Received => store.Mail.ToList();

    /// <summary>The mail accepted so far once <paramref name="count"/> messages have arrived, or a failure at the deadline.</summary>
    public async Task<IReadOnlyList<ReceivedMail>> WaitForAsync(int count, TimeSpan? within = null)
    {
        using var deadline = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(10));
        try
        {
            while (store.Mail.Count < count) await store.Arrived.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{store.Mail.Count} of {count} messages arrived in time.");
        }
        return store.Mail.ToList();
    }

    /// <summary>The first accepted mail that satisfies <paramref name="wanted"/>, waiting for it up to the deadline. Tests
    /// that share one server look for their own mail this way (by message id or recipient), never by count.</summary>
    public async Task<ReceivedMail> WaitForAsync(Func<ReceivedMail, bool> wanted, TimeSpan? within = null)
    {
        using var deadline = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                if (store.Mail.FirstOrDefault(wanted) is { } mail) return mail;
                await store.Arrived.WaitAsync(TimeSpan.FromMilliseconds(200), deadline.Token);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No matching mail among the {store.Mail.Count} that arrived in time.");
        }
    }

    private int sessionsStarted;
    private int sessionsEnded;
    private readonly SemaphoreSlim sessionEnded = new(0);

    /// <summary>SMTP sessions (connections) the server has seen start.</summary>
    public int SessionsStarted => Volatile.Read(ref sessionsStarted);

    private LocalSmtpServer(int port, (string User, string Password)? credentials, TimeSpan? idleTimeout)
    {
        Port = port;
        store = new Store(this);
        var builder = new SmtpServerOptionsBuilder().ServerName("localhost");
        if (idleTimeout is { } timeout) builder.CommandWaitTimeout(timeout);
        var options = builder
            .Endpoint(e =>
            {
                e.Endpoint(new IPEndPoint(IPAddress.Loopback, port)).AllowUnsecureAuthentication();
                if (credentials is not null) e.AuthenticationRequired();
            })
            .Build();
        var services = new SmtpServiceProvider();
        services.Add(store);
        if (credentials is { } c) services.Add(new Authenticator(c.User, c.Password));
        server = new SmtpServerHost(options, services);
        server.SessionCreated += (_, _) => Interlocked.Increment(ref sessionsStarted);
        server.SessionCompleted += (_, _) => EndSession();
        server.SessionFaulted += (_, _) => EndSession();
        server.SessionCancelled += (_, _) => EndSession();
        running = server.StartAsync(stopping.Token);
    }

    /// <summary>Starts the server; with <paramref name="credentials"/> it requires AUTH and accepts only those; with
    /// <paramref name="idleTimeout"/> it closes a connection that sends no command for that long.</summary>
    public static LocalSmtpServer Start((string User, string Password)? credentials = null, TimeSpan? idleTimeout = null) =>
        new(FreePort(), credentials, idleTimeout);

    private void EndSession()
    {
        Interlocked.Increment(ref sessionsEnded);
        sessionEnded.Release();
    }

    /// <summary>Returns once <paramref name="count"/> sessions have ended (the client quit or the server closed them).</summary>
    public async Task WaitForSessionsEndedAsync(int count, TimeSpan? within = null)
    {
        using var deadline = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(10));
        try
        {
            while (Volatile.Read(ref sessionsEnded) < count) await sessionEnded.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{sessionsEnded} of {count} sessions ended in time.");
        }
    }

    /// <summary>A port nothing listens on right now (the OS picked it for a listener that is closed again).</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
            // Stopped as asked.
        }
        stopping.Dispose();
    }

    private sealed class Authenticator(string user, string password) : IUserAuthenticator
    {
        public Task<bool> AuthenticateAsync(ISessionContext context, string user1, string password1, CancellationToken cancellationToken) =>
            Task.FromResult(user1 == user && password1 == password);
    }

    private sealed class Store(LocalSmtpServer owner) : MessageStore
    {
        public ConcurrentQueue<ReceivedMail> Mail { get; } = new();

        public SemaphoreSlim Arrived { get; } = new(0);

        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction,
            ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var answer = owner.Answer();
            if (answer.ReplyCode != SmtpReplyCode.Ok) return answer;
            await using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            Mail.Enqueue(new ReceivedMail($"{transaction.From.User}@{transaction.From.Host}", transaction.To.Select(t => $"{t.User}@{t.Host}").ToList(), message));
            Arrived.Release();
            return SmtpResponse.Ok;
        }
    }
}
