using System.Buffers;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace EventSourcedJourneys.Api.Ingestion;

/// <summary>Reads a tracking API body (gzip or plain) within the 500 KB limit and parses it as JSON, or says what is wrong.</summary>
public static class RequestBody
{
    public static async Task<(JsonDocument? Document, IResult? Problem)> ReadAsync(HttpRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is > 0 and <= TrackingCallReader.MaxRequestBytes ? (int)request.ContentLength : 16 * 1024);
        try
        {
            var body = request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase)
                ? new GZipStream(request.Body, CompressionMode.Decompress)
                : request.Body;
            while (true)
            {
                var memory = buffer.GetMemory(16 * 1024);
                var read = await body.ReadAsync(memory, request.HttpContext.RequestAborted);
                if (read == 0) break;
                buffer.Advance(read);
                if (buffer.WrittenCount > TrackingCallReader.MaxRequestBytes) return (null, TooLarge());
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge());
        }
        catch (InvalidDataException)
        {
            return (null, TrackingEndpoint.Problem(400, "The body is not valid gzip", "The request says Content-Encoding: gzip, but its body cannot be decompressed."));
        }

        if (buffer.WrittenCount == 0)
            return (null, TrackingEndpoint.Problem(400, "The body is empty", "Send the call as a JSON object."));
        try
        {
            return (JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = 64 }), null);
        }
        catch (JsonException e)
        {
            return (null, TrackingEndpoint.Problem(400, "The body is not valid JSON",
                $"{e.Message.Split(" Path:")[0]} (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}). Nothing was stored."));
        }
    }

    private static IResult TooLarge() => TrackingEndpoint.Problem(StatusCodes.Status413PayloadTooLarge, "The request body is too large",
        $"The tracking API accepts at most {TrackingCallReader.MaxRequestBytes:N0} bytes (500 KB) per request; split the batch. Nothing was stored.");
}
