namespace EventSourcedJourneys.Dispatch.Channels;

/// <summary><c>Journeys:Channels:Smtp</c>: the SMTP relay email goes through.</summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }
    public int Port { get; set; } = 587;

    /// <summary>None, StartTls, StartTlsWhenAvailable, SslOnConnect or Auto (MailKit's choice by port).</summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    public string? UserName { get; set; }
    public string? Password { get; set; }
    public string? FromAddress { get; set; }
    public string? FromName { get; set; }

    /// <summary>The domain of generated Message-IDs; the from address's domain when unset.</summary>
    public string? MessageIdDomain { get; set; }

    public double TimeoutSeconds { get; set; } = 30;

    /// <summary>Connections to the relay open at once (and so messages in flight); read at start.</summary>
    public int MaxConnections { get; set; } = 4;

    /// <summary>How long a connection may wait for its next message before it is closed rather than reused.</summary>
    public double IdleSeconds { get; set; } = 30;
}

public enum SmtpSecurity
{
    None,
    StartTls,
    StartTlsWhenAvailable,
    SslOnConnect,
    Auto,
}

/// <summary><c>Journeys:Channels:Webhook</c>: timeouts and each workspace's signing secret.</summary>
public sealed class WebhookOptions
{
    /// <summary>Workspace id → the secret its webhook receivers verify signatures with.</summary>
    public Dictionary<string, string> Secrets { get; set; } = new(StringComparer.Ordinal);

    /// <summary>When not empty, the only hosts webhooks may go to (exact names, or "*.example.com" for subdomains);
    /// a deployment whose webhook URLs come from untrusted parties sets it so nothing is posted inside its network.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    public double TimeoutSeconds { get; set; } = 10;
}

/// <summary><c>Journeys:Channels:Twilio</c>: SMS and WhatsApp through Twilio's Messages API.</summary>
public sealed class TwilioOptions
{
    public string BaseUrl { get; set; } = "https://api.twilio.com";
    public string? AccountSid { get; set; }
    public string? AuthToken { get; set; }

    /// <summary>The sending number (E.164) or messaging service of SMS.</summary>
    public string? SmsFrom { get; set; }

    /// <summary>The WhatsApp sender's number (E.164, without the "whatsapp:" prefix, which is added).</summary>
    public string? WhatsAppFrom { get; set; }

    public double TimeoutSeconds { get; set; } = 10;
}

/// <summary><c>Journeys:Channels:Fcm</c>: push (and web push to FCM web tokens) through FCM HTTP v1.</summary>
public sealed class FcmOptions
{
    public string BaseUrl { get; set; } = "https://fcm.googleapis.com";
    public string? ProjectId { get; set; }

    /// <summary>An OAuth 2 access token for the project's service account (rotated outside this service).</summary>
    public string? AccessToken { get; set; }

    public double TimeoutSeconds { get; set; } = 10;
}
