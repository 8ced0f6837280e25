namespace EventSourcedJourneys.Dsl.Ast;

/// <summary><c>segment name = condition</c>: a reusable, named audience.</summary>
public sealed record SegmentRule(string Name, Condition Condition) : Rule;
