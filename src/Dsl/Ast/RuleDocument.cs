namespace EventSourcedJourneys.Dsl.Ast;

/// <summary>A whole rules document: segments, triggers, policies and funnels, in source order.</summary>
public sealed record RuleDocument(NodeList<Rule> Rules);
