namespace EventSourcedJourneys.Dsl.Ast;

/// <summary>One top-level definition in a rules document.</summary>
public abstract record Rule;
