
namespace EventSourcedJourneys.Api.Workspaces;

/// <summary>
/// On the first start of an empty deployment, creates the workspace "demo" and prints its keys (also written to
/// a file, by default .data/demo-workspace.env) so that the README's walkthrough works without set-up.
/// Off with Journeys:DemoWorkspace:Enabled=false.
/// </summary>
public sealed class DemoWorkspace(WorkspaceRegistry registry, IConfiguration configuration, ILogger<DemoWorkspace> logger)
    : IHostedService
{
    public const string Id = "demo";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!configuration.GetValue("Journeys:DemoWorkspace:Enabled", true)) return;
        if (await registry.AnyAsync(cancellationToken)) return;

        var keys = await registry.CreateAsync(Id, "Demo workspace", cancellationToken);
        var file = Path.GetFullPath(configuration["Journeys:DemoWorkspace:KeysFile"] ?? ".data/demo-workspace.env");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file,
            $"JOURNEYS_WORKSPACE={keys.WorkspaceId}\nJOURNEYS_API_KEY={keys.ApiKey}\nJOURNEYS_WRITE_KEY={keys.WriteKey}\n" +
            $"JOURNEYS_AUDIT_KEY={keys.AuditKey}\n",
            cancellationToken);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        logger.LogWarning(
            "Created the demo workspace '{Workspace}'. API key: {ApiKey}  Write key: {WriteKey}  Audit key: {AuditKey}  (also in {File}; shown only once)",
            keys.WorkspaceId, keys.ApiKey, keys.WriteKey, keys.AuditKey, file);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
