using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Channels;

/// <summary>The classification every HTTP adapter shares: which answers and which failures are worth a retry.</summary>
public static class HttpDelivery
{
    private const int MaxReasonBodyCharacters = 500;

    /// <summary>True for statuses a retry may fix: 408, 429 and every 5xx.</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>The failure an unsuccessful response is; <paramref name="detail"/> is the provider's own explanation.</summary>
    public static DeliveryAttempt Failure(HttpResponseMessage response, string provider, string? detail, Instant now)
    {
        var reason = $"{provider} answered {(int)response.StatusCode} {response.ReasonPhrase}" +
                     (string.IsNullOrWhiteSpace(detail) ? "" : $": {Truncate(detail)}");
        if (IsTransient(response.StatusCode)) return new DeliveryAttempt.TransientFailure(reason, RetryAfter(response, now));
        if ((int)response.StatusCode is >= 300 and < 400)
            return new DeliveryAttempt.PermanentFailure($"{reason} (redirects are not followed)");
        return new DeliveryAttempt.PermanentFailure(reason);
    }

    /// <summary>
    /// Sends a request and returns its response, or the transient failure a timeout or a network error is. The
    /// caller's own cancellation is thrown, not classified: the engine is stopping, the attempt did not end.
    /// </summary>
    public static async Task<(HttpResponseMessage? Response, DeliveryAttempt? Failure)> TrySendAsync(
        HttpClient client, HttpRequestMessage request, string provider, CancellationToken cancellation)
    {
        try
        {
            // Headers first: a success needs no body (or a small one), and a failure's body is read only up to a limit.
            return (await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation), null);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            // The provider may have acted on the request; the retry carries the same idempotency key.
            return (null, new DeliveryAttempt.TransientFailure($"{provider} did not answer within {client.Timeout.TotalSeconds:0.#} s."));
        }
        catch (HttpRequestException e)
        {
            var what = e.InnerException is SocketException socket ? $"{socket.SocketErrorCode}: {socket.Message}" : e.Message;
            return (null, new DeliveryAttempt.TransientFailure($"{provider} could not be reached ({what})."));
        }
    }

    /// <summary>At most 64 KiB of an answer's body, as text: enough for any provider's JSON, never a stream's worth.</summary>
    public static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellation)
    {
        const int limit = 64 * 1024;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellation);
            var buffer = new byte[limit];
            var read = 0;
            while (read < limit && await stream.ReadAsync(buffer.AsMemory(read, limit - read), cancellation) is var n and > 0) read += n;
            return System.Text.Encoding.UTF8.GetString(buffer, 0, read);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException)
        {
            return "";
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return "";
        }
    }

    /// <summary>Retry-After as seconds or as an HTTP date, relative to <paramref name="now"/>.</summary>
    public static Duration? RetryAfter(HttpResponseMessage response, Instant now)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return Duration.FromTimeSpan(delta);
        if (header?.Date is { } date)
        {
            var wait = Instant.FromDateTimeOffset(date) - now;
            return wait > Duration.Zero ? wait : Duration.Zero;
        }
        return response.Headers.TryGetValues("Retry-After", out var values)
               && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            ? Duration.FromSeconds(seconds)
            : null;
    }

    public static string Truncate(string text) =>
        text.Length <= MaxReasonBodyCharacters ? text.Trim() : text[..MaxReasonBodyCharacters].Trim() + "…";

    public static TimeSpan Timeout(double seconds) => TimeSpan.FromSeconds(seconds > 0 ? seconds : 10);

    /// <summary>A top-level property of a JSON answer as text; null when the answer is no such JSON.</summary>
    public static string? JsonProperty(string json, string name)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var value)
                ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
