using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedJourneys.Api;

public sealed record HealthStatus(string Status);

public static class HealthEndpoint
{
    [WolverineGet("/health", Name = "Health")]
    [AllowAnonymous]
    [NotTenanted]
    public static HealthStatus Get() => new("ok");
}
