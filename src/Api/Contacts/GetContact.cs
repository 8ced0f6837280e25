using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Projections.Contacts;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Contacts;

/// <summary>A contact's profile: traits, identities, first/last seen, latest context, addresses and consent.</summary>
public static class GetContactEndpoint
{
    /// <summary>By contact id; a contact merged into another answers with the contact it went into.</summary>
    [WolverineGet("/contacts/{contactId}", Name = "GetContact")]
    [Tags("Contacts")]
    public static async Task<IResult> Get(Guid contactId, IQuerySession session, CancellationToken cancellation) =>
        await ContactProfiles.LoadAsync(session, contactId, cancellation) is { } profile ? Results.Ok(profile) : NotFound(contactId.ToString());

    /// <summary>By the ids the app sends: <c>GET /contacts?userId=…</c> or <c>?anonymousId=…</c>.</summary>
    [WolverineGet("/contacts", Name = "FindContact")]
    [Tags("Contacts")]
    public static async Task<IResult> Find(string? userId, string? anonymousId, IQuerySession session, CancellationToken cancellation)
    {
        if (string.IsNullOrEmpty(userId) == string.IsNullOrEmpty(anonymousId))
            return Results.Problem(new ValidationProblemDetails(new Dictionary<string, string[]>
            {
                ["userId"] = ["Give either userId or anonymousId (one of them) to find a contact, or use GET /contacts/{contactId}."],
            }) { Status = 400, Title = "Which contact?" });

        var identity = userId is { Length: > 0 } ? Identity.User(userId) : Identity.Anonymous(anonymousId!);
        return await ContactProfiles.FindAsync(session, identity, cancellation) is { } id
               && await ContactProfiles.LoadAsync(session, id, cancellation) is { } profile
            ? Results.Ok(profile)
            : NotFound(identity.Key);
    }

    private static IResult NotFound(string what) =>
        Results.Problem(new ProblemDetails { Status = 404, Title = "No such contact", Detail = $"The workspace has no contact '{what}'." });
}
