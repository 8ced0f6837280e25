using System.Text.RegularExpressions;

namespace EventSourcedJourneys.Dispatch.Channels;

/// <summary>What a recipient address of each channel must look like before anything is sent.</summary>
public static partial class Addresses
{
    /// <summary>E.164: a plus, a country code, at most 15 digits.</summary>
    public static bool IsPhoneNumber(string address) => PhoneNumber().IsMatch(address);

    public static bool IsWebhookUrl(string address) =>
        Uri.TryCreate(address, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
                                                              && string.IsNullOrEmpty(uri.UserInfo);

    public static bool IsPushToken(string address) =>
        address.Length is > 0 and <= 4096 && !address.Any(char.IsWhiteSpace);

    [GeneratedRegex(@"^\+[1-9][0-9]{6,14}$")]
    private static partial Regex PhoneNumber();
}
