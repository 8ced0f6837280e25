using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Workspaces;

public sealed record ChangeWorkspace(string? Name, string? TimeZone);

/// <summary>The calling key's workspace: its name and its time zone.</summary>
public static class GetWorkspaceEndpoint
{
    [WolverineGet("/workspace", Name = "GetWorkspace")]
    [Tags("Workspace")]
    public static Task<Workspace?> Get(IMessageContext context, WorkspaceRegistry registry, CancellationToken cancellation) =>
        registry.FindAsync(context.TenantId!, cancellation);
}

public static class ChangeWorkspaceEndpoint
{
    public static ProblemDetails Validate(ChangeWorkspace change)
    {
        var errors = new Dictionary<string, string[]>();
        if (change.TimeZone is { } zone && DateTimeZoneProviders.Tzdb.GetZoneOrNull(zone) is null)
            errors["timeZone"] = [$"'{zone}' is not a time zone id such as \"Europe/Paris\" or \"Asia/Shanghai\"."];
        if (change.Name is { } name && (string.IsNullOrWhiteSpace(name) || name.Length > 200))
            errors["name"] = ["A workspace name has 1 to 200 characters."];
        return errors.Count == 0
            ? WolverineContinue.NoProblems
            : new ValidationProblemDetails(errors) { Status = 400, Title = "The workspace cannot be changed so" };
    }

    [WolverinePut("/workspace", Name = "ChangeWorkspace")]
    [Tags("Workspace")]
    public static async Task<Workspace?> Put(ChangeWorkspace change, IMessageContext context, WorkspaceRegistry registry,
        CancellationToken cancellation)
    {
        if (await registry.FindAsync(context.TenantId!, cancellation) is not { } workspace) return null;
        return await registry.UpdateAsync(workspace with
        {
            Name = change.Name?.Trim() ?? workspace.Name,
            TimeZone = change.TimeZone ?? workspace.TimeZone,
        }, cancellation);
    }
}
