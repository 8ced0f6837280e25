using System.Globalization;
using System.Text;
using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Parsing;
using NodaTime;
using NodaTime.Text;

namespace EventSourcedJourneys.Dsl.Formatting;

/// <summary>
/// Prints syntax in the one canonical layout: a rule's first line flush left, each further line indented
/// four spaces, the top-level <c>and</c>/<c>or</c> of a segment one per line, parentheses only where the
/// structure needs them, and one blank line between rules. Parsing the output gives back an equal tree.
/// Comments are not part of the tree, so formatting drops them.
/// </summary>
public static class RuleFormatter
{
    const string Indent = "    ";
    static readonly LocalTimePattern TimePattern = LocalTimePattern.CreateWithInvariantCulture("HH:mm");

    /// <summary>Formats rules text; when it does not parse, returns false with the diagnostics instead.</summary>
    public static bool TryFormat(string text, out string formatted, out IReadOnlyList<Diagnostics.Diagnostic> diagnostics)
    {
        var ok = RuleParser.TryParse(text, out var document, out diagnostics);
        formatted = ok ? Format(document) : "";
        return ok;
    }

    public static string Format(RuleDocument document) =>
        string.Join("\n\n", document.Rules.Select(Format)) + (document.Rules.Count > 0 ? "\n" : "");

    public static string Format(Rule rule) => rule switch
    {
        SegmentRule segment => $"segment {segment.Name} =\n{Indent}{FormatTopLevel(segment.Condition)}",
        TriggerRule trigger => $"trigger {trigger.Name}" + string.Concat(trigger.Clauses.Select(c => $"\n{Indent}{Format(c)}")),
        FrequencyCapPolicy caps => $"policy frequency cap {string.Join(", ", caps.Caps.Select(Format))}",
        QuietHoursPolicy quiet => $"policy quiet hours {Format(quiet.Hours.From)} to {Format(quiet.Hours.To)} {Format(quiet.Hours.Zone)}",
        FunnelRule funnel => $"funnel {funnel.Name} = {string.Join(" -> ", funnel.Steps.Select(Format))} within {Format(funnel.Within)}",
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, null),
    };

    public static string Format(TriggerClause clause) => clause switch
    {
        OnEventClause on => $"on event {string.Join(", ", on.EventNames.Select(TextLiterals.Quote))}{FormatWhere(on.Where)}",
        OnDateClause date => $"on date {Format(date.DatePath)}" +
            (date.Offsets.Count == 0 ? "" : $" {(date.Direction == OffsetDirection.Minus ? "minus" : "plus")} {string.Join(", ", date.Offsets.Select(Format))}") +
            $" at {Format(date.At)} {Format(date.Zone)}",
        OnSegmentClause segment => $"on {(segment.Change == SegmentChange.Entered ? "entered" : "exited")} segment {segment.Segment}",
        WaitClause wait => $"wait {Format(wait.Duration)}",
        CancelIfClause cancel => $"cancel if {Format(cancel.Event)}",
        AudienceClause audience => $"audience {Format(audience.Condition)}",
        SendMessageClause send => $"send {send.Channel} {TextLiterals.Quote(send.Template)}",
        SendWindowClause window => $"send between {Format(window.Hours.From)} and {Format(window.Hours.To)} {Format(window.Hours.Zone)}",
        AtMostClause atMost => $"at most {Format(atMost.Cap)}",
        ActiveClause active => "active" +
            (active.From is { } from ? $" from {LocalDatePattern.Iso.Format(from)}" : "") +
            (active.To is { } to ? $" to {LocalDatePattern.Iso.Format(to)}" : ""),
        GoalClause goal => $"goal {Format(goal.Event)} within {Format(goal.Within)}" + (goal.Revenue is { } revenue ? $" revenue {Format(revenue)}" : ""),
        TransactionalClause => "transactional",
        ControlGroupClause control => $"control group {control.Percent.Value.ToString(CultureInfo.InvariantCulture)}%",
        _ => throw new ArgumentOutOfRangeException(nameof(clause), clause, null),
    };

    /// <summary>A segment's outermost <c>and</c> or <c>or</c> goes one operand per line, as marketers write it.</summary>
    static string FormatTopLevel(Condition condition) => condition switch
    {
        AllOf all => string.Join($"\n{Indent}and ", all.Operands.Select(o => FormatOperandOf(all, o))),
        AnyOf any => string.Join($"\n{Indent}or ", any.Operands.Select(o => FormatOperandOf(any, o))),
        _ => Format(condition),
    };

    public static string Format(Condition condition) => condition switch
    {
        AllOf all => string.Join(" and ", all.Operands.Select(o => FormatOperandOf(all, o))),
        AnyOf any => string.Join(" or ", any.Operands.Select(o => FormatOperandOf(any, o))),
        Not not => "not " + (not.Operand is AllOf or AnyOf ? $"({Format(not.Operand)})" : Format(not.Operand)),
        Comparison comparison => $"{Format(comparison.Left)} {Format(comparison.Operator)} {Format(comparison.Right)}",
        Between between => $"{Format(between.Subject)} between {Format(between.Low)} and {Format(between.High)}",
        InList list => $"{Format(list.Subject)} in [{string.Join(", ", list.Items.Select(i => Format(i)))}]",
        TextTest test => $"{Format(test.Subject)} {(test.Operator == TextOperator.Contains ? "contains" : "starts with")} {Format(test.Value)}",
        Exists exists => $"{Format(exists.Path)} exists",
        SegmentReference reference => $"segment {reference.Name}",
        EventOccurred occurred => $"{Format(occurred.Event)} {Format(occurred.Window)}",
        _ => throw new ArgumentOutOfRangeException(nameof(condition), condition, null),
    };

    /// <summary>Parentheses where the tree nests a list the flat syntax would otherwise merge or regroup.</summary>
    static string FormatOperandOf(Condition parent, Condition operand)
    {
        var needsParentheses = operand switch
        {
            AllOf => parent is AllOf,
            AnyOf => true,
            _ => false,
        };
        return needsParentheses ? $"({Format(operand)})" : Format(operand);
    }

    public static string Format(Operand operand) => operand switch
    {
        PathOperand path => Format(path),
        NumberLiteral number => number.Value.ToString(CultureInfo.InvariantCulture),
        TextLiteral text => TextLiterals.Quote(text.Value),
        BoolLiteral flag => flag.Value ? "true" : "false",
        AgoLiteral ago => $"{Format(ago.Duration)} ago",
        Aggregate aggregate => $"{Format(aggregate.Function)}(" +
            (aggregate.Of is { } of ? $"{Format(of)} of " : "") +
            $"{Format(aggregate.Event)} {Format(aggregate.Window)})",
        _ => throw new ArgumentOutOfRangeException(nameof(operand), operand, null),
    };

    static string Format(PathOperand path)
    {
        var builder = new StringBuilder(path.Root switch
        {
            PathRoot.Traits => "traits",
            PathRoot.Properties => "properties",
            _ => "context",
        });
        foreach (var segment in path.Segments)
            builder.Append('.').Append(IsPlainWord(segment) ? segment : TextLiterals.Quote(segment));
        return builder.ToString();
    }

    static bool IsPlainWord(string segment) =>
        segment.Length > 0 && (char.IsLetter(segment[0]) || segment[0] == '_') && segment.All(c => char.IsLetterOrDigit(c) || c == '_');

    static string Format(EventPattern pattern) => $"event {TextLiterals.Quote(pattern.EventName)}{FormatWhere(pattern.Where)}";

    static string FormatWhere(Condition? where) => where is null ? "" : $" where {Format(where)}";

    static string Format(Window window) => window.Kind switch
    {
        WindowKind.InLast => $"in last {Format(window.Length!)}",
        WindowKind.Ever => "ever",
        _ => "since entry",
    };

    public static string Format(DurationLiteral duration) => duration.Amount.ToString(CultureInfo.InvariantCulture) + duration.Unit switch
    {
        DurationUnit.Seconds => "s",
        DurationUnit.Minutes => "m",
        DurationUnit.Hours => "h",
        DurationUnit.Days => "d",
        _ => "w",
    };

    static string Format(CapLiteral cap) => $"{cap.Count.ToString(CultureInfo.InvariantCulture)} per {Format(cap.Per)}";

    static string Format(LocalTime time) => TimePattern.Format(time);

    static string Format(ZoneReference zone) => zone == ZoneReference.Local ? "local" : "workspace";

    public static string Format(ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal => "=",
        ComparisonOperator.NotEqual => "!=",
        ComparisonOperator.Greater => ">",
        ComparisonOperator.GreaterOrEqual => ">=",
        ComparisonOperator.Less => "<",
        _ => "<=",
    };

    static string Format(AggregateFunction function) => function.ToString().ToLowerInvariant();
}
