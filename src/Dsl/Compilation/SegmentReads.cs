using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;
using NodaTime.Text;

namespace EventSourcedJourneys.Dsl.Compilation;

/// <summary>An event a segment counts, and over which window (null: <c>ever</c>).</summary>
public sealed record EventRead(string EventName, Duration? Window);

/// <summary>
/// What a segment's definition (with the segments it refers to) reads about a contact, found from its syntax tree:
/// which events, over which windows, which trait dates it compares with <c>… ago</c>, and whether it reads the
/// profile at all. It tells the membership engine which segments an event can change, and
/// <see cref="NextChange"/> when the answer can change with no new event.
/// </summary>
public sealed class SegmentReads
{
    readonly EventRead[] _events;
    readonly (PathOperand Path, Duration Ago)[] _agoComparisons;

    SegmentReads(EventRead[] events, (PathOperand, Duration)[] agoComparisons, bool readsTraits, bool readsContext, bool readsEventDetails)
    {
        _events = events;
        _agoComparisons = agoComparisons;
        EventNames = events.Select(e => e.EventName).Distinct(StringComparer.Ordinal).ToArray();
        ReadsTraits = readsTraits;
        ReadsContext = readsContext;
        ReadsEventDetails = readsEventDetails;
    }

    /// <summary>Names of the events the segment counts; an event with another name cannot change it.</summary>
    public IReadOnlyList<string> EventNames { get; }

    public IReadOnlyList<EventRead> Events => _events;

    /// <summary>Reads <c>traits.*</c>: an identify or a merge can change it.</summary>
    public bool ReadsTraits { get; }

    /// <summary>Reads the contact's latest <c>context.*</c>: any call can change it.</summary>
    public bool ReadsContext { get; }

    /// <summary>Reads event properties or context (a <c>where</c> on an event, or <c>sum(properties.x of …)</c>).</summary>
    public bool ReadsEventDetails { get; }

    /// <summary>Whether the answer depends on anything but the events named in <see cref="EventNames"/>.</summary>
    public bool ReadsProfile => ReadsTraits || ReadsContext;

    /// <summary>Whether the answer can change as time passes, with no new event.</summary>
    public bool DependsOnTime => _events.Length > 0 || _agoComparisons.Length > 0;

    /// <summary>
    /// The earliest instant after <paramref name="now"/> at which the segment's answer for this contact could change
    /// with no new event: when a counted event leaves its window (its time + the window, just past the window's
    /// inclusive end), when an event recorded with a future time comes into view, or when a trait date compared with
    /// <c>… ago</c> crosses the line. Null when nothing can change by time alone. It may be early (the answer may
    /// then stay the same), never late.
    /// </summary>
    public Instant? NextChange(ContactSnapshot contact, Instant now)
    {
        Instant? earliest = null;
        void Consider(Instant at)
        {
            if (at > now && (earliest is null || at < earliest)) earliest = at;
        }

        foreach (var read in _events)
        {
            foreach (var e in contact.EventsNamed(read.EventName))
            {
                Consider(e.Timestamp);
                if (read.Window is { } window) Consider(e.Timestamp + window + Duration.Epsilon);
            }
        }
        foreach (var (path, ago) in _agoComparisons)
        {
            if (TimeOf(path, contact) is { } at)
            {
                Consider(at + ago);
                Consider(at + ago + Duration.Epsilon);
            }
        }
        return earliest;
    }

    static Instant? TimeOf(PathOperand path, ContactSnapshot contact)
    {
        Value? value = path.Root switch
        {
            PathRoot.Traits => contact.Traits,
            PathRoot.Context => contact.LatestContext,
            _ => null,
        };
        foreach (var key in path.Segments)
            value = value is ObjectValue o && o.Members.TryGetValue(key, out var member) ? member : null;
        return value switch
        {
            TimeValue time => time.Instant,
            TextValue text when InstantPattern.ExtendedIso.Parse(text.Text) is { Success: true } parsed => parsed.Value,
            _ => null,
        };
    }

    /// <summary>Walks <paramref name="root"/> and every segment it refers to (found by <paramref name="segmentNamed"/>).</summary>
    public static SegmentReads Of(Condition root, Func<string, Condition?> segmentNamed)
    {
        var events = new List<EventRead>();
        var agos = new List<(PathOperand, Duration)>();
        bool traits = false, context = false, details = false;
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<(object Node, bool InsideEvent)>();
        pending.Push((root, false));
        while (pending.Count > 0)
        {
            var (node, insideEvent) = pending.Pop();
            switch (node)
            {
                case SegmentReference reference when visited.Add(reference.Name) && segmentNamed(reference.Name) is { } referenced:
                    pending.Push((referenced, false));
                    break;
                case AllOf all:
                    foreach (var operand in all.Operands) pending.Push((operand, insideEvent));
                    break;
                case AnyOf any:
                    foreach (var operand in any.Operands) pending.Push((operand, insideEvent));
                    break;
                case Not not:
                    pending.Push((not.Operand, insideEvent));
                    break;
                case EventOccurred occurred:
                    events.Add(new EventRead(occurred.Event.EventName, WindowLength(occurred.Window)));
                    pending.Push((occurred.Event, insideEvent));
                    break;
                case Aggregate aggregate:
                    events.Add(new EventRead(aggregate.Event.EventName, WindowLength(aggregate.Window)));
                    if (aggregate.Of is not null) details = true;
                    pending.Push((aggregate.Event, insideEvent));
                    break;
                case EventPattern { Where: { } where }:
                    details = true;
                    pending.Push((where, true));
                    break;
                case Comparison comparison:
                    if (comparison.Left is PathOperand left && comparison.Right is AgoLiteral rightAgo) agos.Add((left, rightAgo.Duration.ToDuration()));
                    if (comparison.Right is PathOperand right && comparison.Left is AgoLiteral leftAgo) agos.Add((right, leftAgo.Duration.ToDuration()));
                    pending.Push((comparison.Left, insideEvent));
                    pending.Push((comparison.Right, insideEvent));
                    break;
                case Between between:
                    foreach (var bound in new[] { between.Low, between.High })
                    {
                        if (between.Subject is PathOperand subject && bound is AgoLiteral ago) agos.Add((subject, ago.Duration.ToDuration()));
                    }
                    pending.Push((between.Subject, insideEvent));
                    pending.Push((between.Low, insideEvent));
                    pending.Push((between.High, insideEvent));
                    break;
                case InList list:
                    pending.Push((list.Subject, insideEvent));
                    break;
                case TextTest test:
                    pending.Push((test.Subject, insideEvent));
                    pending.Push((test.Value, insideEvent));
                    break;
                case Exists exists:
                    pending.Push((exists.Path, insideEvent));
                    break;
                case PathOperand { Root: PathRoot.Traits }:
                    traits = true;
                    break;
                case PathOperand { Root: PathRoot.Context } when !insideEvent:
                    context = true;
                    break;
            }
        }
        return new SegmentReads(events.Distinct().ToArray(), agos.Distinct().ToArray(), traits, context, details);
    }

    static Duration? WindowLength(Window window) => window.Kind == WindowKind.InLast ? window.Length!.ToDuration() : null;
}
