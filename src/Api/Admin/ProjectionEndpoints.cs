using EventSourcedJourneys.Projections.Rebuilds;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Admin;

public enum ProjectionState
{
    /// <summary>Served from its current generation; no rebuild running.</summary>
    Idle,
    Rebuilding,

    /// <summary>The last rebuild failed; the current generation is still served, unchanged.</summary>
    Failed,
}

/// <summary>A read model, its current generation (0 = built by live processing, never rebuilt) and its rebuild.</summary>
public sealed record ProjectionView(string Name, int Generation, Instant? RebuiltAt, ProjectionState State, RebuildView? Rebuild);

/// <summary>One rebuild: progress in <see cref="Unit"/>, a percentage and the time left at the pace so far.</summary>
public sealed record RebuildView(
    Guid Id, string Projection, RebuildState State, long Done, long Total, string Unit, double Percentage, Instant StartedAt,
    Instant? FinishedAt, Duration? Eta, int? Generation, string? Error)
{
    public static RebuildView Of(RebuildStatus status, Instant now) => new(status.Id, status.Projection, status.State, status.Done,
        status.Total, status.Unit, status.Percentage, status.StartedAt, status.FinishedAt, status.Remaining(now), status.Generation, status.Error);
}

/// <summary>
/// The operator's view of the read models: list them, rebuild one blue/green in the background, follow its progress.
/// Deployment-wide (every workspace's data), so only the operator key opens it (ADR 0009).
/// </summary>
public static class ProjectionEndpoints
{
    [WolverineGet("/admin/projections", Name = "ListProjections")]
    [NotTenanted]
    [Authorize(Policy = OperatorKey.Policy)]
    public static async Task<IReadOnlyList<ProjectionView>> List(ProjectionRebuilds rebuilds, IClock clock, CancellationToken cancellation)
    {
        var generations = await rebuilds.GenerationsAsync(cancellation);
        var now = clock.GetCurrentInstant();
        return rebuilds.All.Select(p =>
        {
            var generation = generations.GetValueOrDefault(p.Name);
            var rebuild = rebuilds.Latest(p.Name);
            var state = rebuild?.State switch
            {
                RebuildState.Running => ProjectionState.Rebuilding,
                RebuildState.Failed => ProjectionState.Failed,
                _ => ProjectionState.Idle,
            };
            return new ProjectionView(p.Name, generation?.Generation ?? 0, generation?.RebuiltAt, state,
                rebuild is null ? null : RebuildView.Of(rebuild, now));
        }).ToList();
    }

    [WolverinePost("/admin/projections/{name}/rebuild", Name = "RebuildProjection")]
    [NotTenanted]
    [Authorize(Policy = OperatorKey.Policy)]
    [ProducesResponseType<RebuildView>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict)]
    public static async Task<IResult> Rebuild(string name, ProjectionRebuilds rebuilds, IClock clock, CancellationToken cancellation)
    {
        var start = await rebuilds.StartAsync(name, cancellation);
        return start.Outcome switch
        {
            RebuildOutcome.NotFound => Unknown(name, rebuilds),
            RebuildOutcome.AlreadyRunning => Results.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "This projection is already being rebuilt",
                detail: start.Status is { } running
                    ? $"The rebuild {running.Id} of '{name}' started at {running.StartedAt} is at {running.Percentage}%; wait for it to finish."
                    : $"Another server on this database is rebuilding '{name}'; wait for it to finish.",
                extensions: new Dictionary<string, object?> { ["name"] = name }),
            _ => Results.Accepted($"/admin/projections/{name}/rebuild", RebuildView.Of(start.Status!, clock.GetCurrentInstant())),
        };
    }

    [WolverineGet("/admin/projections/{name}/rebuild", Name = "GetProjectionRebuild")]
    [NotTenanted]
    [Authorize(Policy = OperatorKey.Policy)]
    [ProducesResponseType<RebuildView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound)]
    public static IResult GetRebuild(string name, ProjectionRebuilds rebuilds, IClock clock)
    {
        if (rebuilds.Find(name) is null) return Unknown(name, rebuilds);
        return rebuilds.Latest(name) is { } status
            ? Results.Ok(RebuildView.Of(status, clock.GetCurrentInstant()))
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No rebuild of this projection yet",
                detail: $"'{name}' has not been rebuilt since this server started; POST /admin/projections/{name}/rebuild starts one.",
                extensions: new Dictionary<string, object?> { ["name"] = name });
    }

    private static IResult Unknown(string name, ProjectionRebuilds rebuilds) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown projection",
            detail: $"There is no projection '{name}'. Projections: {string.Join(", ", rebuilds.All.Select(p => p.Name))}.",
            extensions: new Dictionary<string, object?> { ["name"] = name });
}
