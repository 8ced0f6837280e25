using EventSourcedJourneys.Dispatch.Channels;
using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Messages;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace EventSourcedJourneys.Dispatch.Tests.Channels;

/// <summary>The channels as the API registers them (<see cref="ChannelsRegistration.AddJourneyChannels"/>), configured
/// from in-memory settings and driven by a FakeClock.</summary>
public sealed class ChannelHost : IAsyncDisposable
{
    public static readonly Instant Now = Instant.FromUtc(2026, 12, 1, 9, 30);
    public static readonly Guid MessageId = Guid.Parse("0195a6c1-0000-7000-8000-00000000beef");
    public static readonly Guid ContactId = Guid.Parse("0195a6c1-0000-7000-8000-000000000001");

    private readonly ServiceProvider services;

    public FakeClock Clock { get; } = new(Now);

    public ChannelDispatcher Dispatcher => services.GetRequiredService<ChannelDispatcher>();

    public ChannelHost(IDictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IClock>(Clock)
            .AddJourneyChannels(configuration)
            .BuildServiceProvider();
    }

    public Task<DeliveryAttempt> SendAsync(OutgoingMessage message) => Dispatcher.SendAsync(message, CancellationToken.None);

    public static OutgoingMessage Message(Channel channel, string address, string body = "Your cart is waiting", string? subject = null,
        string? html = null, string? title = null, IReadOnlyDictionary<string, string>? data = null, string workspace = "acme") =>
        new(MessageId, OutgoingMessage.IdempotencyKeyFor(MessageId), workspace, ContactId, address,
            new RenderedContent("cart-reminder", 2, channel, subject, body, html, title, data), DueAt: Now - Duration.FromMinutes(1));

    public ValueTask DisposeAsync() => services.DisposeAsync();
}
