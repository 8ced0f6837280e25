using EventSourcedJourneys.Dispatch.Channels.Fcm;
using EventSourcedJourneys.Dispatch.Channels.Smtp;
using EventSourcedJourneys.Dispatch.Channels.Twilio;
using EventSourcedJourneys.Dispatch.Channels.Webhook;
using EventSourcedJourneys.Domain.Messages;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Channels;

public static class ChannelsRegistration
{
    public const string Section = "Journeys:Channels";

    /// <summary>
    /// Every channel adapter and the <see cref="ChannelDispatcher"/>, configured from <c>Journeys:Channels:Smtp</c>,
    /// <c>:Webhook</c>, <c>:Twilio</c> and <c>:Fcm</c>. Needs an <see cref="IClock"/> registered by the host.
    /// </summary>
    public static IServiceCollection AddJourneyChannels(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<SmtpOptions>(configuration.GetSection($"{Section}:Smtp"));
        services.Configure<WebhookOptions>(configuration.GetSection($"{Section}:Webhook"));
        services.Configure<TwilioOptions>(configuration.GetSection($"{Section}:Twilio"));
        services.Configure<FcmOptions>(configuration.GetSection($"{Section}:Fcm"));

        AddClient<WebhookOptions>(services, WebhookChannel.HttpClientName, o => o.TimeoutSeconds);
        AddClient<TwilioOptions>(services, TwilioChannel.HttpClientName, o => o.TimeoutSeconds);
        AddClient<FcmOptions>(services, FcmChannel.HttpClientName, o => o.TimeoutSeconds);

        services.TryAddSingleton<IWebhookSecrets, ConfiguredWebhookSecrets>();
        services.AddSingleton<IChannelAdapter, SmtpChannel>();
        services.AddSingleton<IChannelAdapter, WebhookChannel>();
        services.AddSingleton<IChannelAdapter>(s => new TwilioChannel(Channel.Sms, s.GetRequiredService<IHttpClientFactory>(),
            s.GetRequiredService<IOptionsMonitor<TwilioOptions>>(), s.GetRequiredService<IClock>()));
        services.AddSingleton<IChannelAdapter>(s => new TwilioChannel(Channel.WhatsApp, s.GetRequiredService<IHttpClientFactory>(),
            s.GetRequiredService<IOptionsMonitor<TwilioOptions>>(), s.GetRequiredService<IClock>()));
        services.AddSingleton<IChannelAdapter>(s => new FcmChannel(Channel.Push, s.GetRequiredService<IHttpClientFactory>(),
            s.GetRequiredService<IOptionsMonitor<FcmOptions>>(), s.GetRequiredService<IClock>()));
        services.AddSingleton<IChannelAdapter>(s => new FcmChannel(Channel.WebPush, s.GetRequiredService<IHttpClientFactory>(),
            s.GetRequiredService<IOptionsMonitor<FcmOptions>>(), s.GetRequiredService<IClock>()));
        services.AddSingleton<ChannelDispatcher>();
        return services;
    }

    private static void AddClient<TOptions>(IServiceCollection services, string name, Func<TOptions, double> timeoutSeconds)
        where TOptions : class =>
        services.AddHttpClient(name, (provider, client) =>
            {
                client.Timeout = HttpDelivery.Timeout(timeoutSeconds(provider.GetRequiredService<IOptionsMonitor<TOptions>>().CurrentValue));
                client.DefaultRequestHeaders.UserAgent.ParseAdd("EventSourcedJourneys/1.0");
            })
            // A redirect would resend a signed request to an address nobody configured: it is a failure instead.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                MaxConnectionsPerServer = 64,
            });
}
