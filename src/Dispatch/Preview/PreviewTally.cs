using System.Text.Json;
using EventSourcedJourneys.Domain.Messages;

namespace EventSourcedJourneys.Dispatch.Preview;

/// <summary>Adds up contact simulations into a <see cref="PreviewResult"/>, keeping a few contacts per outcome.</summary>
public sealed class PreviewTally
{
    public const int SampleSize = 10;

    private sealed class Counter
    {
        public int Entries, Scheduled, Sent, Cancelled, Rescheduled, Pending, Withheld;
        public readonly SortedDictionary<string, int> Suppressed = new(StringComparer.Ordinal);

        public PreviewCounts Freeze() =>
            new(Entries, Scheduled, Sent, Cancelled, Suppressed.Values.Sum(), new Dictionary<string, int>(Suppressed), Rescheduled, Pending, Withheld);
    }

    private readonly Counter _total = new();
    private readonly SortedDictionary<string, Counter> _byTrigger = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, List<PreviewSample>> _samples = new(StringComparer.Ordinal);
    private int _evaluated, _triggered, _reached;

    public PreviewTally(IEnumerable<string> triggers)
    {
        foreach (var trigger in triggers) _byTrigger[trigger] = new Counter();
    }

    public static string ReasonName(SuppressionReason reason) => JsonNamingPolicy.CamelCase.ConvertName(reason.ToString());

    public void Add(ContactSimulation contact, PreviewSample sample)
    {
        _evaluated++;
        if (contact.Entries == 0 && contact.Messages.Count == 0) return;
        _triggered++;
        Sample("triggered", sample);

        foreach (var message in contact.Messages)
        {
            var perTrigger = _byTrigger.TryGetValue(message.Trigger, out var counter) ? counter : _byTrigger[message.Trigger] = new Counter();
            Count(_total, message);
            Count(perTrigger, message);
            if (message.Reschedules > 0) Sample("rescheduled", sample);
            Sample(message.Outcome switch
            {
                PreviewOutcome.Suppressed => "suppressed." + ReasonName(message.Reason!.Value),
                var outcome => JsonNamingPolicy.CamelCase.ConvertName(outcome.ToString()),
            }, sample);
        }
        if (contact.Messages.Any(m => m.Outcome == PreviewOutcome.Sent)) _reached++;
    }

    // Every entry ends in exactly one message outcome (scheduled, or suppressed at once by `at most`).
    private static void Count(Counter c, SimulatedMessage message)
    {
        c.Entries++;
        if (message.Scheduled) c.Scheduled++;
        if (message.Reschedules > 0) c.Rescheduled++;
        switch (message.Outcome)
        {
            case PreviewOutcome.Sent: c.Sent++; break;
            case PreviewOutcome.Cancelled: c.Cancelled++; break;
            case PreviewOutcome.Pending: c.Pending++; break;
            case PreviewOutcome.Withheld: c.Withheld++; break;
            case PreviewOutcome.Suppressed:
                var reason = ReasonName(message.Reason!.Value);
                c.Suppressed[reason] = c.Suppressed.GetValueOrDefault(reason) + 1;
                break;
        }
    }

    private void Sample(string outcome, PreviewSample sample)
    {
        if (!_samples.TryGetValue(outcome, out var list)) _samples[outcome] = list = [];
        if (list.Count < SampleSize && list.All(s => s.ContactId != sample.ContactId)) list.Add(sample);
    }

    public PreviewResult Result()
    {
        var byTrigger = _byTrigger.ToDictionary(t => t.Key, t => t.Value.Freeze(), StringComparer.Ordinal);
        return new PreviewResult(_evaluated, _triggered, _reached, _total.Freeze(), byTrigger,
            _samples.ToDictionary(s => s.Key, s => (IReadOnlyList<PreviewSample>)s.Value, StringComparer.Ordinal));
    }
}
