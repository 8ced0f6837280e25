using EventSourcedJourneys.Domain.Messages;

namespace EventSourcedJourneys.Dispatch.Templates;

/// <summary>
/// The rules a template's fields follow, per channel, before any Liquid is parsed: which fields a channel has, which
/// it requires, and what a name and a data key may be. Field errors are keyed by the API's field names.
/// </summary>
public static class TemplateDefinition
{
    public const int MaxNameLength = 100;
    public const int MaxDataEntries = 50;

    /// <summary>Keys FCM refuses in a message's data.</summary>
    private static readonly string[] ReservedDataKeys = ["from", "notification", "message_type"];

    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= MaxNameLength
        && char.IsAsciiLetterOrDigit(name[0])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    public static bool HasSubject(Channel channel) => channel == Channel.Email;

    public static bool HasHtml(Channel channel) => channel == Channel.Email;

    public static bool HasTitleAndData(Channel channel) => channel is Channel.Push or Channel.WebPush or Channel.InApp;

    /// <summary>Field errors of a template's shape; empty when every field is where its channel expects it.</summary>
    public static Dictionary<string, string[]> ShapeErrors(string? channelText, string? subject, string? body, string? html,
        string? title, IReadOnlyDictionary<string, string>? data)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!Domain.Messages.Channels.TryParse(channelText, out var channel))
        {
            errors["channel"] = [string.IsNullOrWhiteSpace(channelText)
                ? $"The channel is required: one of {string.Join(", ", Domain.Messages.Channels.Names)}."
                : $"'{channelText}' is not a channel. Must be one of: {string.Join(", ", Domain.Messages.Channels.Names)}."];
            return errors;
        }
        if (string.IsNullOrWhiteSpace(body)) errors["body"] = ["The body is required."];
        if (HasSubject(channel) && string.IsNullOrWhiteSpace(subject)) errors["subject"] = ["An email template needs a subject."];
        if (!HasSubject(channel) && subject is not null) errors["subject"] = [$"Only email templates have a subject; {channel.Name()} has none."];
        if (!HasHtml(channel) && html is not null) errors["html"] = [$"Only email templates have an HTML part; {channel.Name()} has none."];
        if (!HasTitleAndData(channel))
        {
            if (title is not null) errors["title"] = [$"Only push, webpush and inapp templates have a title; {channel.Name()} has none."];
            if (data is not null) errors["data"] = [$"Only push, webpush and inapp templates have data; {channel.Name()} has none."];
        }
        else if (data is not null)
        {
            if (data.Count > MaxDataEntries) errors["data"] = [$"At most {MaxDataEntries} data entries."];
            foreach (var key in data.Keys)
            {
                if (string.IsNullOrWhiteSpace(key) || key.Length > 100)
                    errors["data"] = ["A data key is 1 to 100 characters."];
                else if (ReservedDataKeys.Contains(key) || key.StartsWith("google", StringComparison.Ordinal) || key.StartsWith("gcm", StringComparison.Ordinal))
                    errors[$"data.{key}"] = [$"'{key}' is reserved by the push provider; choose another key."];
            }
        }
        return errors;
    }
}
