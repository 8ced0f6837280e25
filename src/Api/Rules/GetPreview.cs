using EventSourcedJourneys.Dispatch.Preview;
using Marten;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Rules;

public static class GetPreviewEndpoint
{
    /// <summary>A preview of this workspace: its status, progress and, once completed, the result.</summary>
    [WolverineGet("/rules/previews/{id}", Name = "GetRulePreview")]
    [Tags("Rules")]
    public static async Task<IResult> Get(Guid id, IQuerySession session, CancellationToken cancellation) =>
        await session.LoadAsync<RulePreview>(id, cancellation) is { } preview
            ? Results.Ok(RulePreviewView.Of(preview))
            : Results.Problem(RuleTexts.Problem(404, "No such preview", $"This workspace has no preview {id}."));
}
