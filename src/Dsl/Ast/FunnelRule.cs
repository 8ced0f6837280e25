namespace EventSourcedJourneys.Dsl.Ast;

/// <summary><c>funnel name = event "a" -> event "b" within 7d</c>: ordered steps a contact goes through.</summary>
public sealed record FunnelRule(string Name, NodeList<EventPattern> Steps, DurationLiteral Within) : Rule;
