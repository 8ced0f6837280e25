using System.Globalization;
using EventSourcedJourneys.Projections.Rebuilds;
using Marten;
using NodaTime;

namespace EventSourcedJourneys.Api.Admin;

/// <summary>
/// <c>dotnet run --project src/Api -- projections list|rebuild [--projection name]</c>, the Critter Stack's command
/// with Marten's own verbs, but over every read model (custom ones included) and rebuilding blue/green, so it is safe
/// while servers run on the same database. It replaces JasperFx's built-in <c>projections</c> command, whose rebuild
/// empties the live table first and knows only Marten projections (ADR 0009). <c>--list</c> and <c>--rebuild
/// [name]</c> are accepted as well.
/// </summary>
public static class ProjectionsCommand
{
    public const string Name = "projections";

    public static bool Handles(string[] args) => args.Length > 0 && args[0] == Name;

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter errors)
    {
        if (!TryParse(args.Skip(1).ToArray(), out var action, out var only, out var problem))
        {
            await errors.WriteLineAsync(problem);
            await errors.WriteLineAsync(Usage);
            return 2;
        }

        // As at a server's start: the schema is created or updated before anything reads it.
        await services.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var rebuilds = services.GetRequiredService<ProjectionRebuilds>();
        if (only is not null && rebuilds.Find(only) is null)
        {
            await errors.WriteLineAsync($"Unknown projection '{only}'. Projections: {string.Join(", ", rebuilds.All.Select(p => p.Name))}.");
            return 2;
        }

        if (action == "list")
        {
            var generations = await rebuilds.GenerationsAsync();
            await output.WriteLineAsync($"{"projection",-28} {"generation",10}  last rebuilt");
            foreach (var projection in rebuilds.All.Where(p => only is null || p.Name == only))
            {
                var generation = generations.GetValueOrDefault(projection.Name);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{projection.Name,-28} {generation?.Generation ?? 0,10}  {(generation is null ? "never" : generation.RebuiltAt.ToString())}"));
            }
            return 0;
        }

        var failed = 0;
        foreach (var projection in rebuilds.All.Where(p => only is null || p.Name == only))
        {
            var start = await rebuilds.StartAsync(projection.Name);
            if (start.Outcome != RebuildOutcome.Started)
            {
                await errors.WriteLineAsync($"{projection.Name}: another process is rebuilding it; skipped.");
                failed++;
                continue;
            }
            await output.WriteLineAsync($"{projection.Name}: rebuilding");
            var completion = start.Completion!;
            var lastShown = -1.0;
            while (!completion.IsCompleted)
            {
                await Task.WhenAny(completion, Task.Delay(TimeSpan.FromMilliseconds(500)));
                if (rebuilds.Latest(projection.Name) is { State: RebuildState.Running, Total: > 0 } running && running.Percentage > lastShown)
                {
                    lastShown = running.Percentage;
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{projection.Name}: {running.Done:N0}/{running.Total:N0} {running.Unit} ({running.Percentage:0.0}%)"));
                }
            }
            var done = await completion;
            if (done.State == RebuildState.Succeeded)
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{projection.Name}: rebuilt, generation {done.Generation}, {done.Total:N0} {done.Unit} (100%)"));
            else
            {
                await errors.WriteLineAsync($"{projection.Name}: failed, the current data is unchanged: {done.Error}");
                failed++;
            }
        }
        return failed == 0 ? 0 : 1;
    }

    private const string Usage = """
        Usage: projections list [--projection <name>]
               projections rebuild [--projection <name>]     (every projection when no name is given)
               projections --list | --rebuild [<name>]
        """;

    private static bool TryParse(string[] args, out string action, out string? only, out string problem)
    {
        action = "list";
        only = null;
        problem = "";
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "list" or "--list":
                    action = "list";
                    break;
                case "rebuild" or "--rebuild":
                    action = "rebuild";
                    if (args[i] == "--rebuild" && i + 1 < args.Length && !args[i + 1].StartsWith('-')) only = args[++i];
                    break;
                case "--projection" or "-p":
                    if (i + 1 >= args.Length)
                    {
                        problem = "--projection needs a name.";
                        return false;
                    }
                    only = args[++i];
                    break;
                default:
                    problem = $"Unknown argument '{args[i]}'.";
                    return false;
            }
        }
        return true;
    }
}
