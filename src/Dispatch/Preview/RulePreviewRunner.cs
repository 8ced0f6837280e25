using System.Diagnostics;
using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Messages;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Preview;

/// <summary>
/// Runs a stored <see cref="RulePreview"/>: finds the contacts with events in its range, reads each person's history
/// and delivery log, simulates them one by one (<see cref="PreviewSimulation"/>) and records progress as it goes. It
/// reads the store and writes only the preview document.
/// </summary>
public sealed class RulePreviewRunner(IDocumentStore store, IWorkspaceSettings zones, IClock clock, ILogger<RulePreviewRunner> logger)
{
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(1);

    public async Task RunAsync(string workspace, Guid previewId, CancellationToken cancellation)
    {
        await using var session = store.QuerySession(workspace);
        var preview = await session.LoadAsync<RulePreview>(previewId, cancellation);
        if (preview is null || preview.Status is PreviewStatus.Completed or PreviewStatus.Failed) return;

        var horizon = clock.GetCurrentInstant();
        preview = preview with { Status = PreviewStatus.Running, StartedAt = horizon, Horizon = horizon, Progress = new PreviewProgress(0, 0) };
        await SaveAsync(workspace, preview, cancellation);
        try
        {
            preview = await SimulateAsync(session, workspace, preview, horizon, cancellation);
            preview = preview with { Status = PreviewStatus.Completed, CompletedAt = clock.GetCurrentInstant() };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Preview {PreviewId} of workspace {Workspace} failed", previewId, workspace);
            preview = preview with { Status = PreviewStatus.Failed, CompletedAt = clock.GetCurrentInstant(), Error = e.Message };
        }
        await SaveAsync(workspace, preview, cancellation);
    }

    private async Task<RulePreview> SimulateAsync(IQuerySession session, string workspace, RulePreview preview, Instant horizon,
        CancellationToken cancellation)
    {
        var compiled = RuleCompiler.Compile(preview.CompiledText);
        var document = compiled.Document
            ?? throw new InvalidOperationException("The draft no longer compiles: " + string.Join("; ", compiled.Diagnostics));
        var triggers = preview.Triggers.ToDictionary(t => t.Name, t => new RuleVersionRef(t.Name, 0, t.ContentHash), StringComparer.Ordinal);
        var plan = new PreviewPlan(document, triggers, preview.From, preview.To, horizon, await zones.ZoneOfAsync(workspace, cancellation),
            await zones.WebhookUrlOfAsync(workspace, cancellation), workspace);

        var streams = await StreamsWithEventsAsync(session, preview.From, preview.To, cancellation);
        if (document.DateTriggers.Any(t => triggers.ContainsKey(t.Name)))
        {
            // A date trigger reaches every contact carrying the date when it goes live, not only those active in the range.
            var everyone = await session.Query<ContactProfile>().Where(p => p.MergedInto == null).Select(p => p.Id).ToListAsync(cancellation);
            streams = streams.Union(everyone).ToList();
        }
        var tally = new PreviewTally(triggers.Keys);
        var seen = new HashSet<Guid>();
        var done = 0;
        var sinceProgress = Stopwatch.StartNew();
        preview = preview with { Progress = new PreviewProgress(streams.Count, 0) };
        await SaveAsync(workspace, preview, cancellation);

        foreach (var stream in streams)
        {
            var profile = await ContactProfiles.LoadAsync(session, stream, cancellation);
            var person = profile?.Id ?? stream;
            if (seen.Add(person))
            {
                var history = profile is null ? [stream] : ContactProfiles.StreamIds(profile);
                var events = new List<JasperFx.Events.IEvent>();
                foreach (var id in history) events.AddRange(await session.Events.FetchStreamAsync(id, token: cancellation));
                var logs = await session.LoadManyAsync<ContactDeliveryLog>(cancellation, history);

                var simulation = PreviewSimulation.Run(plan, new ContactTimeline(person, events),
                    logs.SelectMany(l => l.Received).ToList(), logs.SelectMany(l => l.Entries).ToList());
                tally.Add(simulation, new PreviewSample(person, profile?.UserIds ?? [], profile?.AnonymousIds ?? []));
            }

            done++;
            if (sinceProgress.Elapsed >= ProgressEvery)
            {
                preview = preview with { Progress = new PreviewProgress(streams.Count, done) };
                await SaveAsync(workspace, preview, cancellation);
                sinceProgress.Restart();
            }
        }
        return preview with { Progress = new PreviewProgress(streams.Count, done), Result = tally.Result() };
    }

    /// <summary>The contact streams holding an event that can start a trigger (or re-plan reminders) whose event time lies
    /// in [from, to), in the session's workspace.</summary>
    private async Task<IReadOnlyList<Guid>> StreamsWithEventsAsync(IQuerySession session, Instant from, Instant to, CancellationToken cancellation)
    {
        var types = new[] { typeof(ContactTracked), typeof(PageViewed), typeof(ScreenViewed), typeof(ContactIdentified) }
            .Select(t => t.GetEventTypeName()).ToArray();
        var table = $"{store.Options.Events.DatabaseSchemaName}.mt_events";
        // The event time is the call's own timestamp in the event's JSON; the store's timestamp column is its arrival.
        var sql = $"select distinct stream_id from {table} where tenant_id = ? and type = any(?) " +
                  "and (data ->> 'Timestamp')::timestamptz >= ? and (data ->> 'Timestamp')::timestamptz < ? order by stream_id";
        return await session.AdvancedSql.QueryAsync<Guid>(sql, cancellation, session.TenantId, types,
            from.ToDateTimeOffset(), to.ToDateTimeOffset());
    }

    private async Task SaveAsync(string workspace, RulePreview preview, CancellationToken cancellation)
    {
        await using var write = store.LightweightSession(workspace);
        write.Store(preview);
        await write.SaveChangesAsync(cancellation);
    }
}

/// <summary>The durable background run of a preview (a Wolverine local message; retried from the start after a crash).</summary>
public static class RunRulePreviewHandler
{
    public static Task Handle(RunRulePreview command, RulePreviewRunner runner, CancellationToken cancellation) =>
        runner.RunAsync(command.Workspace, command.PreviewId, cancellation);
}
