namespace EventSourcedJourneys.Dsl.Ast;

/// <summary>A workspace-wide setting.</summary>
public abstract record PolicyRule : Rule;

/// <summary><c>policy frequency cap 3 per 1d, 10 per 7d</c>.</summary>
public sealed record FrequencyCapPolicy(NodeList<CapLiteral> Caps) : PolicyRule;

/// <summary><c>policy quiet hours 21:00 to 09:00 local</c>.</summary>
public sealed record QuietHoursPolicy(TimeOfDayRange Hours) : PolicyRule;
