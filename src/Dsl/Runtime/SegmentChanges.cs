using EventSourcedJourneys.Dsl.Ast;

namespace EventSourcedJourneys.Dsl.Runtime;

/// <summary>
/// Entering or leaving a segment is an event of the contact like any other, under a name of its own, so that
/// <c>on entered segment vip</c> starts a trigger exactly as <c>on event "entered segment vip"</c> would.
/// </summary>
public static class SegmentChanges
{
    public static string EventName(SegmentChange change, string segment) =>
        (change == SegmentChange.Entered ? "entered segment " : "exited segment ") + segment;
}
