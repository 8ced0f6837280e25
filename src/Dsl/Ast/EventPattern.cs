namespace EventSourcedJourneys.Dsl.Ast;

/// <summary><c>event "name" where …</c>: which events count. Inside <c>where</c>, <c>properties.*</c> and
/// <c>context.*</c> refer to that event.</summary>
public sealed record EventPattern(string EventName, Condition? Where);
