using System.Text.Json;
using EventSourcedJourneys.Api.Workspaces;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Ingestion;

/// <summary>Segment's answer to an accepted call or batch.</summary>
public sealed record TrackingAccepted(bool Success = true);

/// <summary>
/// The Segment-compatible HTTP Tracking API. One file for the eight routes because they are one use case ("record
/// what a contact did") differing only in how the body names the call type. Bodies are read field by field
/// (<see cref="TrackingCallReader"/>) rather than bound to a type, so that each refusal can name its field.
/// </summary>
public static class TrackingEndpoint
{
    [WolverinePost("/v1/track", Name = "Track"), Tags("Tracking API"), Authorize(Policy = ApiKeyPolicies.Ingestion), RequestSizeLimit(TrackingCallReader.MaxRequestBytes)]
    public static Task<IResult> Track(HttpRequest request, IMessageContext context, IDocumentStore store, IClock clock) =>
        SingleAsync(CallType.Track, request, context, store, clock);

    [WolverinePost("/v1/identify", Name = "Identify"), Tags("Tracking API"), Authorize(Policy = ApiKeyPolicies.Ingestion), RequestSizeLimit(TrackingCallReader.MaxRequestBytes)]
    public static Task<IResult> Identify(HttpRequest request, IMessageContext context, IDocumentStore store, IClock clock) =>
        SingleAsync(CallType.Identify, request, context, store, clock);

    [WolverinePost("/v1/page", Name = "Page"), Tags("Tracking API"), Authorize(Policy = ApiKeyPolicies.Ingestion), RequestSizeLimit(TrackingCallReader.MaxRequestBytes)]
    public static Task<IResult> Page(HttpRequest request, IMessageContext context, IDocumentStore store, IClock clock) =>
        SingleAsync(CallType.Page, request, context, store, clock);

    [WolverinePost("/v1/screen", Name = "Screen"), Tags("Tracking API"), Authorize(Policy = ApiKeyPolicies.Ingestion), RequestSizeLimit(TrackingCallReader.MaxRequestBytes)]
    public static Task<IResult> Screen(HttpRequest request, IMessageContext context, IDocumentStore store, IClock clock) =>
        SingleAsync(CallType.Screen, request, context, store, clock);

    [WolverinePost("/v1/group", Name = "Group"), Tags("Tracking API"), Authorize(Policy = ApiKeyPolicies.Ingestion), RequestSizeLimit(TrackingCallReader.MaxRequestBytes)]
    public static Task<IResult> Group(HttpRequest request, IMessageContext context, IDocumentStore store, IClock clock) =>
        SingleAsync(CallType.Group, request, context, store, clock);

    [WolverinePost("/v1/alias", Name = "Alias"), Tags("Tracking API"), Authorize(Policy = ApiKeyPolicies.Ingestion), RequestSizeLimit(TrackingCallReader.MaxRequestBytes)]
    public static Task<IResult> Alias(HttpRequest request, IMessageContext context, IDocumentStore store, IClock clock) =>
        SingleAsync(CallType.Alias, request, context, store, clock);

    /// <summary>Up to 500 KB of calls; valid ones are stored even when others are refused, and the answer says which.</summary>
    [WolverinePost("/v1/batch", Name = "Batch"), Tags("Tracking API"), Authorize(Policy = ApiKeyPolicies.Ingestion), RequestSizeLimit(TrackingCallReader.MaxRequestBytes)]
    public static Task<IResult> Batch(HttpRequest request, IMessageContext context, IDocumentStore store, IClock clock) =>
        BatchAsync(request, context, store, clock);

    /// <summary>Segment's historical import: the same as /v1/batch.</summary>
    [WolverinePost("/v1/import", Name = "Import"), Tags("Tracking API"), Authorize(Policy = ApiKeyPolicies.Ingestion), RequestSizeLimit(TrackingCallReader.MaxRequestBytes)]
    public static Task<IResult> Import(HttpRequest request, IMessageContext context, IDocumentStore store, IClock clock) =>
        BatchAsync(request, context, store, clock);

    private static async Task<IResult> SingleAsync(CallType type, HttpRequest request, IMessageContext context, IDocumentStore store, IClock clock)
    {
        var receivedAt = clock.GetCurrentInstant();
        var (document, problem) = await RequestBody.ReadAsync(request);
        if (problem is not null) return problem;
        using (document)
        {
            var errors = new Dictionary<string, string[]>();
            if (document!.RootElement.ValueKind == JsonValueKind.Object
                && JsonMarshalSize(document.RootElement) > TrackingCallReader.MaxCallBytes)
                return Problem(StatusCodes.Status413PayloadTooLarge, "The call is too large",
                    $"A single call may have at most {TrackingCallReader.MaxCallBytes:N0} bytes (32 KB); send larger payloads in fewer properties.");
            var call = TrackingCallReader.Read(document.RootElement, type, 0, "", null, receivedAt, errors);
            if (call is null)
                return Results.Problem(new ValidationProblemDetails(errors) { Status = 400, Title = $"The {type.ToString().ToLowerInvariant()} call was refused", Detail = "Nothing was stored." });

            await ContactIngestion.IngestAsync(store, context.TenantId!, [call], receivedAt, request.HttpContext.RequestAborted);
            return Results.Ok(new TrackingAccepted());
        }
    }

    private static async Task<IResult> BatchAsync(HttpRequest request, IMessageContext context, IDocumentStore store, IClock clock)
    {
        var receivedAt = clock.GetCurrentInstant();
        var (document, problem) = await RequestBody.ReadAsync(request);
        if (problem is not null) return problem;
        using (document)
        {
            var root = document!.RootElement;
            var errors = new Dictionary<string, string[]>();
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("batch", out var batch) || batch.ValueKind != JsonValueKind.Array)
            {
                errors["batch"] = ["A batch body is {\"batch\": [ …calls… ]}."];
                return Results.Problem(new ValidationProblemDetails(errors) { Status = 400, Title = "The batch was refused", Detail = "Nothing was stored." });
            }
            var batchSentAt = TrackingCallReader.Time(root, "sentAt", (field, message) => errors[field] = [message]);
            if (errors.Count > 0)
                return Results.Problem(new ValidationProblemDetails(errors) { Status = 400, Title = "The batch was refused", Detail = "Nothing was stored." });
            if (batch.GetArrayLength() == 0) return Results.Ok(new TrackingAccepted());

            var calls = new List<TrackingCall>();
            var refused = new List<int>();
            var index = 0;
            foreach (var item in batch.EnumerateArray())
            {
                var call = TrackingCallReader.Read(item, null, index, $"batch[{index}].", batchSentAt, receivedAt, errors);
                if (call is null) refused.Add(index);
                else calls.Add(call);
                index++;
            }

            if (calls.Count > 0) await ContactIngestion.IngestAsync(store, context.TenantId!, calls, receivedAt, request.HttpContext.RequestAborted);
            if (refused.Count == 0) return Results.Ok(new TrackingAccepted());

            var details = new ValidationProblemDetails(errors)
            {
                Status = 400,
                Title = calls.Count == 0 ? "The batch was refused" : "Some calls of the batch were refused",
                Detail = calls.Count == 0
                    ? "No call of the batch was stored."
                    : $"{refused.Count} of {index} calls were refused (see errors); the other {calls.Count} were stored. Resending the whole batch is safe: stored messageIds are not stored twice.",
            };
            details.Extensions["stored"] = calls.Select(c => c.Index).ToArray();
            details.Extensions["refused"] = refused.ToArray();
            return Results.Problem(details);
        }
    }

    private static int JsonMarshalSize(JsonElement element) => System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element).Length;

    internal static IResult Problem(int status, string title, string detail) =>
        Results.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail });
}
