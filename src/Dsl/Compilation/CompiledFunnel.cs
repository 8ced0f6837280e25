using NodaTime;

namespace EventSourcedJourneys.Dsl.Compilation;

/// <summary><c>funnel checkout = event "a" -> event "b" within 7d</c>: steps in order, within one window.</summary>
public sealed record CompiledFunnel(string Name, int Line, IReadOnlyList<EventMatcher> Steps, Duration Within);
