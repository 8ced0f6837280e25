using CsCheck;
using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Checking;
using EventSourcedJourneys.Dsl.Parsing;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Tests;

/// <summary>CsCheck generators for syntax trees in the shape the parser produces: and/or lists of two or
/// more operands, at least one date on an <c>active</c> line, and so on. Depth is bounded by hand.</summary>
static class SyntaxGenerators
{
    static Gen<string> Choose(params string[] values) => Gen.OneOf(values.Select(Gen.Const).ToArray());

    static readonly Gen<string> Name =
        Gen.Select(Gen.Char["abcdefghijklmnopqrstuvwxyz_0123456789"].Array[0, 8], Choose("r", "seg_", "规则", "t"),
            (chars, prefix) => prefix + new string(chars))
            .Where(name => !RuleParser.IsReservedWord(name));

    static readonly Gen<string> Text =
        Choose("a", "Z", " ", "\"", "\\", "\n", "\t", "é", "订单", "😀", "\u0001", "-", "wealth-management", "#")
            .Array[0, 6].Select(parts => string.Concat(parts));

    static readonly Gen<string> PathSegment =
        Gen.OneOf(Name, Choose("count", "trigger", "segment", "first name", "1st", "", "城市"));

    static readonly Gen<DurationLiteral> Duration =
        Gen.Select(Gen.Long[0, 100_000], Gen.Enum<DurationUnit>(), (amount, unit) => new DurationLiteral(amount, unit));

    static readonly Gen<PathOperand> Path =
        Gen.Select(Gen.Enum<PathRoot>(), PathSegment.Array[1, 3], (root, segments) => new PathOperand(root, new NodeList<string>(segments)));

    static readonly Gen<Literal> Literal = Gen.OneOf<Literal>(
        Gen.Long[-1_000_000, 1_000_000].Select(n => (Literal)new NumberLiteral(n / 100m)),
        Gen.Int[-5, 500].Select(n => (Literal)new NumberLiteral(n)),
        Text.Select(t => (Literal)new TextLiteral(t)),
        Gen.Bool.Select(b => (Literal)new BoolLiteral(b)),
        Duration.Select(d => (Literal)new AgoLiteral(d)));

    static readonly Gen<Window> Window = Gen.OneOf(
        Gen.Const(Ast.Window.Ever),
        Gen.Const(Ast.Window.SinceEntry),
        Duration.Select(Ast.Window.InLast));

    static readonly Gen<LocalTime> Time = Gen.Select(Gen.Int[0, 23], Gen.Int[0, 59], (h, m) => new LocalTime(h, m));

    static readonly Gen<LocalDate> Date = Gen.Select(Gen.Int[2000, 2100], Gen.Int[1, 12], Gen.Int[1, 28], (y, m, d) => new LocalDate(y, m, d));

    static readonly Gen<TimeOfDayRange> Hours = Gen.Select(Time, Time, Gen.Enum<ZoneReference>(), (from, to, zone) => new TimeOfDayRange(from, to, zone));

    static readonly Gen<CapLiteral> Cap = Gen.Select(Gen.Long[0, 1000], Duration, (count, per) => new CapLiteral(count, per));

    static readonly Gen<Condition?> NoCondition = Gen.Const((Condition?)null);

    static Gen<EventPattern> EventPattern(int depth) =>
        Gen.Select(Text, depth > 0 ? Gen.Frequency((2, NoCondition), (1, Condition(depth - 1).Select(c => (Condition?)c))) : NoCondition,
            (name, where) => new EventPattern(name, where));

    static Gen<Operand> Operand(int depth)
    {
        var simple = Gen.OneOf<Operand>(Path.Select(p => (Operand)p), Literal.Select(l => (Operand)l));
        if (depth == 0)
            return simple;
        var aggregate = Gen.Select(Gen.Enum<AggregateFunction>(), Path, EventPattern(depth - 1), Window,
            (function, path, pattern, window) => (Operand)new Aggregate(
                function,
                function is AggregateFunction.Count or AggregateFunction.First or AggregateFunction.Last ? null : path,
                pattern,
                window));
        return Gen.Frequency((3, simple), (1, aggregate));
    }

    public static Gen<Condition> Condition(int depth)
    {
        var operand = Operand(depth);
        var leaves = Gen.OneOf<Condition>(
            Gen.Select(operand, Gen.Enum<ComparisonOperator>(), operand, (l, op, r) => (Condition)new Comparison(l, op, r)),
            Gen.Select(operand, operand, operand, (s, l, h) => (Condition)new Between(s, l, h)),
            Gen.Select(operand, Literal.Array[1, 3], (s, items) => (Condition)new InList(s, new NodeList<Literal>(items))),
            Gen.Select(operand, Gen.Enum<TextOperator>(), operand, (s, op, v) => (Condition)new TextTest(s, op, v)),
            Path.Select(p => (Condition)new Exists(p)),
            Name.Select(n => (Condition)new SegmentReference(n)),
            Gen.Select(EventPattern(depth), Window, (p, w) => (Condition)new EventOccurred(p, w)));
        if (depth == 0)
            return leaves;
        var inner = Condition(depth - 1);
        return Gen.Frequency(
            (4, leaves),
            (1, inner.Array[2, 3].Select(items => (Condition)new AllOf(new NodeList<Condition>(items)))),
            (1, inner.Array[2, 3].Select(items => (Condition)new AnyOf(new NodeList<Condition>(items)))),
            (1, inner.Select(c => (Condition)new Not(c))));
    }

    static readonly Gen<TriggerClause> Clause = Gen.OneOf<TriggerClause>(
        Gen.Select(Text.Array[1, 3], Gen.Frequency((1, NoCondition), (2, Condition(2).Select(c => (Condition?)c))),
            (names, where) => (TriggerClause)new OnEventClause(new NodeList<string>(names), where)),
        Gen.Select(Path, Gen.Enum<OffsetDirection>(), Duration.Array[0, 3], Time, Gen.Enum<ZoneReference>(),
            (path, direction, offsets, at, zone) => (TriggerClause)new OnDateClause(
                path, offsets.Length == 0 ? OffsetDirection.Minus : direction, new NodeList<DurationLiteral>(offsets), at, zone)),
        Duration.Select(d => (TriggerClause)new WaitClause(d)),
        EventPattern(2).Select(p => (TriggerClause)new CancelIfClause(p)),
        Condition(2).Select(c => (TriggerClause)new AudienceClause(c)),
        Gen.Select(Choose([.. Channels.Names, "fax"]), Text, (channel, template) => (TriggerClause)new SendMessageClause(channel, template)),
        Hours.Select(h => (TriggerClause)new SendWindowClause(h)),
        Cap.Select(c => (TriggerClause)new AtMostClause(c)),
        Gen.Select(Date, Date, Gen.Int[0, 2], (from, to, shape) => (TriggerClause)(shape switch
        {
            0 => new ActiveClause(from, to),
            1 => new ActiveClause(from, null),
            _ => new ActiveClause(null, to),
        })),
        Gen.Select(EventPattern(2), Duration, Gen.Bool, Path,
            (p, d, hasRevenue, revenue) => (TriggerClause)new GoalClause(p, d, hasRevenue ? revenue with { Root = PathRoot.Properties } : null)),
        Gen.Const<TriggerClause>(new TransactionalClause()),
        Gen.Decimal[-5m, 105m].Select(p => (TriggerClause)new ControlGroupClause(new PercentLiteral(decimal.Round(p, 2)))));

    public static readonly Gen<Rule> Rule = Gen.OneOf<Rule>(
        Gen.Select(Name, Condition(3), (name, condition) => (Rule)new SegmentRule(name, condition)),
        Gen.Select(Name, Clause.Array[1, 6], (name, clauses) => (Rule)new TriggerRule(name, new NodeList<TriggerClause>(clauses))),
        Cap.Array[1, 3].Select(caps => (Rule)new FrequencyCapPolicy(new NodeList<CapLiteral>(caps))),
        Hours.Select(h => (Rule)new QuietHoursPolicy(h)),
        Gen.Select(Name, EventPattern(2).Array[2, 4], Duration, (name, steps, within) => (Rule)new FunnelRule(name, new NodeList<EventPattern>(steps), within)));

    public static readonly Gen<RuleDocument> Document = Rule.Array[1, 4].Select(rules => new RuleDocument(new NodeList<Rule>(rules)));
}
