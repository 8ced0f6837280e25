using EventSourcedJourneys.Domain.Messages;

namespace EventSourcedJourneys.Dispatch.Channels;

/// <summary>The adapter of each channel, by channel; what the delivery engine calls.</summary>
public sealed class ChannelDispatcher(IEnumerable<IChannelAdapter> adapters)
{
    private readonly Dictionary<Channel, IChannelAdapter> byChannel = adapters.ToDictionary(a => a.Channel);

    public bool Supports(Channel channel) => byChannel.ContainsKey(channel);

    public Task<DeliveryAttempt> SendAsync(OutgoingMessage message, CancellationToken cancellation) =>
        byChannel.TryGetValue(message.Channel, out var adapter)
            ? adapter.SendAsync(message, cancellation)
            : Task.FromResult<DeliveryAttempt>(new DeliveryAttempt.PermanentFailure(message.Channel == Channel.InApp
                ? "In-app messages are not sent to a provider; they are delivered to the contact's inbox."
                : $"No adapter sends {message.Channel.Name()} messages."));
}
