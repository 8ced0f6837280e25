namespace EventSourcedJourneys.Dsl.Ast;

/// <summary><c>trigger name</c> followed by its clauses, kept in the order the marketer wrote them.</summary>
public sealed record TriggerRule(string Name, NodeList<TriggerClause> Clauses) : Rule;
