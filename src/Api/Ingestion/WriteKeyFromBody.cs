using System.Text;
using System.Text.Json;

namespace EventSourcedJourneys.Api.Ingestion;

/// <summary>
/// Segment's SDKs may put the write key in the body (<c>"writeKey": "…"</c>) instead of HTTP Basic. For tracking
/// calls that carry no key in their headers, this reads it from the body and presents it as HTTP Basic, so the one
/// authentication handler (and Wolverine's tenant detection from its claim) serves both forms.
/// </summary>
public static class WriteKeyFromBody
{
    public static IApplicationBuilder UseWriteKeyFromBody(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (HttpMethods.IsPost(request.Method) && request.Path.StartsWithSegments("/v1")
            && !request.Headers.ContainsKey("Authorization") && !request.Headers.ContainsKey("X-Api-Key")
            && !request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
        {
            request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: TrackingCallReader.MaxRequestBytes + 1);
            try
            {
                using var buffered = new MemoryStream();
                await request.Body.CopyToAsync(buffered, context.RequestAborted);
                if (WriteKeyIn(buffered.GetBuffer().AsSpan(0, (int)buffered.Length)) is { } key)
                    request.Headers.Authorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(key + ":"));
            }
            catch (IOException)
            {
                // Too large or cut short (BadHttpRequestException is one): the endpoint reads the body again and
                // answers with the precise problem.
            }
            request.Body.Position = 0;
        }
        await next(context);
    });

    /// <summary>The top-level <c>writeKey</c> string of a JSON object, without parsing the rest into a document.</summary>
    public static string? WriteKeyIn(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isKey = reader.ValueTextEquals("writeKey"u8);
                if (!reader.Read()) return null;
                if (isKey) return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }
}
