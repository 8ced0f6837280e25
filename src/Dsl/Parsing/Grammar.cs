using System.Globalization;
using EventSourcedJourneys.Dsl.Ast;
using NodaTime;
using NodaTime.Text;
using Superpower;
using Superpower.Model;
using Superpower.Parsers;

namespace EventSourcedJourneys.Dsl.Parsing;

/// <summary>
/// The grammar as static Superpower parsers, one per construct. Each rule is parsed on its own token range
/// (see <see cref="RuleParser"/>), so a syntax error in one rule does not hide errors in the next.
/// </summary>
static class Grammar
{
    static readonly LocalTimePattern TimePattern = LocalTimePattern.CreateWithInvariantCulture("H:mm");

    static TokenListParser<DslToken, Token<DslToken>> Keyword(DslToken kind) => Token.EqualTo(kind);

    /// <summary>Records the span of what <paramref name="parser"/> consumed in the session's source map.</summary>
    static TokenListParser<DslToken, T> Marked<T>(this TokenListParser<DslToken, T> parser) where T : class =>
        input =>
        {
            var result = parser(input);
            if (result.HasValue)
                ParseSession.Current.Record(result.Value, input, result.Remainder);
            return result;
        };

    /// <summary>Recursion point with a depth limit (the <c>!</c> at call sites: the referenced field is assigned
    /// later in the static initializer, and read only when parsing starts): parentheses, <c>not</c> and nested <c>where</c> all pass here.</summary>
    static TokenListParser<DslToken, T> Nested<T>(Func<TokenListParser<DslToken, T>> reference)
    {
        TokenListParser<DslToken, T>? parser = null;
        return input =>
        {
            var session = ParseSession.Current;
            if (!session.TryEnter(input))
                return TokenListParserResult.Empty<DslToken, T>(input, "simpler nesting");
            try
            {
                return (parser ??= reference())(input);
            }
            finally
            {
                session.Leave();
            }
        };
    }

    /// <summary>Fails with <paramref name="expected"/> unless the whole token range has been read.</summary>
    static TokenListParser<DslToken, T> ThenEnd<T>(this TokenListParser<DslToken, T> parser, params string[] expected) =>
        input =>
        {
            var result = parser(input);
            if (!result.HasValue || result.Remainder.IsAtEnd)
                return result;
            return TokenListParserResult.Empty<DslToken, T>(result.Remainder, expected);
        };

    /// <summary>Reads items until the token range ends; an item that does not parse is the error.</summary>
    static TokenListParser<DslToken, T[]> UntilEnd<T>(this TokenListParser<DslToken, T> item) =>
        input =>
        {
            var items = new List<T>();
            var remainder = input;
            do
            {
                var result = item(remainder);
                if (!result.HasValue)
                    return TokenListParserResult.CastEmpty<DslToken, T, T[]>(result);
                items.Add(result.Value);
                remainder = result.Remainder;
            }
            while (!remainder.IsAtEnd);
            return TokenListParserResult.Value(items.ToArray(), input, remainder);
        };

    // ---- Names and literals -------------------------------------------------------------------------------

    static readonly TokenListParser<DslToken, string> Name =
        Token.EqualTo(DslToken.Identifier).Select(t => t.ToStringValue());

    static readonly TokenListParser<DslToken, string> Text =
        Token.EqualTo(DslToken.Text).Select(t => TextLiterals.Decode(t.Span.ToStringValue()));

    static readonly TokenListParser<DslToken, decimal> Number =
        Token.EqualTo(DslToken.Number)
            .Select(t => decimal.TryParse(t.ToStringValue(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
                CultureInfo.InvariantCulture, out var value) ? (decimal?)value : null)
            .Where(v => v is not null, "this number is too large")
            .Select(v => v!.Value);

    static readonly TokenListParser<DslToken, long> WholeNumber =
        Token.EqualTo(DslToken.Number)
            .Where(t => t.Span.ToStringValue().All(char.IsAsciiDigit), "expected a whole number such as 3")
            .Select(t => long.TryParse(t.ToStringValue(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= int.MaxValue ? value : -1)
            .Where(v => v >= 0, "this count is too large; the largest is 2,147,483,647");

    /// <summary>Larger amounts are refused by the parser (<see cref="RuleParser"/>); the checker's limits are far lower.</summary>
    internal const long LargestDurationAmount = 1_000_000_000;

    static readonly TokenListParser<DslToken, DurationLiteral> Duration =
        Token.EqualTo(DslToken.Duration)
            .Select(t =>
            {
                var text = t.ToStringValue();
                return long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) && amount <= LargestDurationAmount
                    ? new DurationLiteral(amount, UnitOf(text[^1]))
                    : null;
            })
            .Where(d => d is not null, "this duration is too large")
            .Select(d => d!)
            .Marked();

    static DurationUnit UnitOf(char unit) => unit switch
    {
        's' => DurationUnit.Seconds,
        'm' => DurationUnit.Minutes,
        'h' => DurationUnit.Hours,
        'd' => DurationUnit.Days,
        _ => DurationUnit.Weeks,
    };

    static readonly TokenListParser<DslToken, PercentLiteral> Percent =
        Token.EqualTo(DslToken.Percent)
            .Select(t => decimal.TryParse(t.ToStringValue().AsSpan(0, t.Span.Length - 1), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
                CultureInfo.InvariantCulture, out var value) ? new PercentLiteral(value) : null)
            .Where(p => p is not null, "this percentage is too large")
            .Select(p => p!)
            .Named("a percentage such as 10%")
            .Marked();

    static readonly TokenListParser<DslToken, LocalTime> TimeOfDay =
        Token.EqualTo(DslToken.TimeOfDay)
            .Select(t => TimePattern.Parse(t.ToStringValue()))
            .Where(r => r.Success, "expected a time of day between 00:00 and 23:59")
            .Select(r => r.Value);

    static readonly TokenListParser<DslToken, LocalDate> Date =
        Token.EqualTo(DslToken.Date)
            .Select(t => LocalDatePattern.Iso.Parse(t.ToStringValue()))
            .Where(r => r.Success, "expected a real calendar date such as 2026-12-01")
            .Select(r => r.Value);

    static readonly TokenListParser<DslToken, ZoneReference> Zone =
        Keyword(DslToken.Local).Value(ZoneReference.Local)
            .Or(Keyword(DslToken.Workspace).Value(ZoneReference.Workspace));

    // ---- Operands -----------------------------------------------------------------------------------------

    static readonly TokenListParser<DslToken, PathRoot> PathRootName =
        Keyword(DslToken.Traits).Value(PathRoot.Traits)
            .Or(Keyword(DslToken.Properties).Value(PathRoot.Properties))
            .Or(Keyword(DslToken.Context).Value(PathRoot.Context));

    /// <summary>Any word may follow a dot (<c>properties.count</c> is fine), or quoted text for unusual keys.</summary>
    static readonly TokenListParser<DslToken, string> PathSegment =
        Token.Matching<DslToken>(k => k == DslToken.Identifier || Keywords.IsKeyword(k), "a property name")
            .Select(t => t.ToStringValue())
            .Or(Text);

    static readonly TokenListParser<DslToken, PathOperand> Path =
        (from root in PathRootName
         from segments in Keyword(DslToken.Dot).IgnoreThen(PathSegment).AtLeastOnce()
         select new PathOperand(root, new NodeList<string>(segments)))
        .Marked();

    static readonly TokenListParser<DslToken, Literal> Literal =
        Number.Select(n => (Literal)new NumberLiteral(n))
            .Or(Text.Select(t => (Literal)new TextLiteral(t)))
            .Or(Keyword(DslToken.True).Select(_ => (Literal)new BoolLiteral(true)))
            .Or(Keyword(DslToken.False).Select(_ => (Literal)new BoolLiteral(false)))
            .Or(Duration.Then(d => Keyword(DslToken.Ago).Value((Literal)new AgoLiteral(d))))
            .Marked();

    static readonly TokenListParser<DslToken, Window> Window =
        Keyword(DslToken.In).IgnoreThen(Keyword(DslToken.Last)).IgnoreThen(Duration).Select(Ast.Window.InLast)
            .Or(Keyword(DslToken.Ever).Select(_ => new Window(WindowKind.Ever, null)))
            .Or(Keyword(DslToken.Since).IgnoreThen(Keyword(DslToken.Entry)).Select(_ => new Window(WindowKind.SinceEntry, null)))
            .Named(WindowExamples)
            .Marked();

    const string WindowExamples = "a window (`in last 30d`, `ever` or `since entry`)";

    static readonly TokenListParser<DslToken, Window> WindowOrWhere = Window.Named($"`where` or {WindowExamples}");

    static readonly TokenListParser<DslToken, Window> WindowOrMoreConditions = Window.Named($"`and`, `or` or {WindowExamples}");

    /// <summary>The window after an event pattern; a failure names what else could have come there.</summary>
    static TokenListParser<DslToken, Window> WindowAfter(EventPattern pattern) =>
        pattern.Where is null ? WindowOrWhere : WindowOrMoreConditions;

    static readonly TokenListParser<DslToken, Condition> WhereClause =
        Keyword(DslToken.Where).IgnoreThen(Nested(() => Condition!));

    static readonly TokenListParser<DslToken, EventPattern> EventPattern =
        (from _ in Keyword(DslToken.Event)
         from name in Text.Named("an event name in quotes")
         from filter in WhereClause.Select(c => (Condition?)c).OptionalOrDefault()
         select new EventPattern(name, filter))
        .Marked();

    static readonly TokenListParser<DslToken, AggregateFunction> CountingFunction =
        Keyword(DslToken.Count).Value(AggregateFunction.Count)
            .Or(Keyword(DslToken.First).Value(AggregateFunction.First))
            .Or(Keyword(DslToken.Last).Value(AggregateFunction.Last));

    static readonly TokenListParser<DslToken, AggregateFunction> ValueFunction =
        Keyword(DslToken.Sum).Value(AggregateFunction.Sum)
            .Or(Keyword(DslToken.Min).Value(AggregateFunction.Min))
            .Or(Keyword(DslToken.Max).Value(AggregateFunction.Max))
            .Or(Keyword(DslToken.Avg).Value(AggregateFunction.Avg));

    static readonly TokenListParser<DslToken, Operand> Aggregate =
        (from function in CountingFunction
         from _ in Keyword(DslToken.LParen)
         from pattern in EventPattern
         from window in WindowAfter(pattern)
         from __ in Keyword(DslToken.RParen)
         select (Operand)new Aggregate(function, null, pattern, window))
        .Or(from function in ValueFunction
            from _ in Keyword(DslToken.LParen)
            from path in Path
            from __ in Keyword(DslToken.Of)
            from pattern in EventPattern
            from window in WindowAfter(pattern)
            from ___ in Keyword(DslToken.RParen)
            select (Operand)new Aggregate(function, path, pattern, window))
        .Marked();

    // Paths first: they are by far the most common operand, and the name below hides the order anyway.
    static readonly TokenListParser<DslToken, Operand> Operand =
        Path.Select(p => (Operand)p)
            .Or(Literal.Select(l => (Operand)l))
            .Or(Aggregate)
            .Named("a value (a path such as traits.age, a number, a quoted text or an aggregate such as count(…))");

    // ---- Conditions ---------------------------------------------------------------------------------------

    static readonly TokenListParser<DslToken, ComparisonOperator> ComparisonOperator =
        Keyword(DslToken.Equal).Value(Ast.ComparisonOperator.Equal)
            .Or(Keyword(DslToken.NotEqual).Value(Ast.ComparisonOperator.NotEqual))
            .Or(Keyword(DslToken.GreaterOrEqual).Value(Ast.ComparisonOperator.GreaterOrEqual))
            .Or(Keyword(DslToken.Greater).Value(Ast.ComparisonOperator.Greater))
            .Or(Keyword(DslToken.LessOrEqual).Value(Ast.ComparisonOperator.LessOrEqual))
            .Or(Keyword(DslToken.Less).Value(Ast.ComparisonOperator.Less));

    static readonly TokenListParser<DslToken, Func<Operand, Condition?>> Test =
        ComparisonOperator.Then(op => Operand.Select(right => (Func<Operand, Condition?>)(left => new Comparison(left, op, right))))
            .Or(from _ in Keyword(DslToken.Between)
                from low in Operand
                from __ in Keyword(DslToken.And)
                from high in Operand
                select (Func<Operand, Condition?>)(subject => new Between(subject, low, high)))
            .Or(from _ in Keyword(DslToken.In)
                from __ in Keyword(DslToken.LBracket)
                from items in Literal.AtLeastOnceDelimitedBy(Keyword(DslToken.Comma))
                from ___ in Keyword(DslToken.RBracket)
                select (Func<Operand, Condition?>)(subject => new InList(subject, new NodeList<Literal>(items))))
            .Or(Keyword(DslToken.Contains).IgnoreThen(Operand)
                .Select(value => (Func<Operand, Condition?>)(subject => new TextTest(subject, TextOperator.Contains, value))))
            .Or(Keyword(DslToken.Starts).IgnoreThen(Keyword(DslToken.With)).IgnoreThen(Operand)
                .Select(value => (Func<Operand, Condition?>)(subject => new TextTest(subject, TextOperator.StartsWith, value))))
            .Or(Keyword(DslToken.Exists)
                .Select(_ => (Func<Operand, Condition?>)(subject => subject is PathOperand path ? new Exists(path) : null)))
            .Or(Keyword(DslToken.Not).IgnoreThen(Keyword(DslToken.Exists))
                .Select(_ => (Func<Operand, Condition?>)(subject => subject is PathOperand path ? new Not(new Exists(path)) : null)))
            .Named("a comparison (`=`, `!=`, `>`, `>=`, `<`, `<=`, `between`, `in`, `contains`, `starts with` or `exists`)");

    /// <summary>A value followed by its test. Written by hand so that "exists after a non-path" is reported at
    /// the word <c>exists</c> instead of being lost among the alternatives of <see cref="Primary"/>.</summary>
    static readonly TokenListParser<DslToken, Condition> Comparison = input =>
    {
        var subject = Operand(input);
        if (!subject.HasValue)
            return TokenListParserResult.CastEmpty<DslToken, Operand, Condition>(subject);
        var test = Test(subject.Remainder);
        if (!test.HasValue)
            return TokenListParserResult.CastEmpty<DslToken, Func<Operand, Condition?>, Condition>(test);
        return test.Value(subject.Value) is { } condition
            ? TokenListParserResult.Value(condition, input, test.Remainder)
            : TokenListParserResult.Empty<DslToken, Condition>(subject.Remainder, "only a path such as traits.phone can be tested with `exists`");
    };

    static readonly TokenListParser<DslToken, Condition> Primary =
        Keyword(DslToken.LParen).IgnoreThen(Nested(() => Condition!)).Then(c => Keyword(DslToken.RParen).Value(c))
            .Or(Keyword(DslToken.Segment).IgnoreThen(Name.Named("a segment name")).Select(n => (Condition)new SegmentReference(n)))
            .Or(from pattern in EventPattern
                from window in WindowAfter(pattern)
                select (Condition)new EventOccurred(pattern, window))
            .Or(Comparison)
            .Marked();

    static readonly TokenListParser<DslToken, Condition> Unary =
        Keyword(DslToken.Not).IgnoreThen(Nested(() => Unary!)).Select(c => (Condition)new Not(c)).Marked()
            .Or(Primary);

    static readonly TokenListParser<DslToken, Condition> Conjunction =
        Unary.AtLeastOnceDelimitedBy(Keyword(DslToken.And))
            .Select(items => items.Length == 1 ? items[0] : new AllOf(new NodeList<Condition>(items)))
            .Marked();

    static readonly TokenListParser<DslToken, Condition> Condition =
        Conjunction.AtLeastOnceDelimitedBy(Keyword(DslToken.Or))
            .Select(items => items.Length == 1 ? items[0] : new AnyOf(new NodeList<Condition>(items)))
            .Marked();

    // ---- Trigger clauses ----------------------------------------------------------------------------------

    static readonly TokenListParser<DslToken, TriggerClause> OnEvent =
        from _ in Keyword(DslToken.Event)
        from names in Text.Named("an event name in quotes").AtLeastOnceDelimitedBy(Keyword(DslToken.Comma))
        from filter in WhereClause.Select(c => (Condition?)c).OptionalOrDefault()
        select (TriggerClause)new OnEventClause(new NodeList<string>(names), filter);

    static readonly TokenListParser<DslToken, TriggerClause> OnDate =
        from _ in Keyword(DslToken.DateKeyword)
        from path in Path
        from offsets in (
            from direction in Keyword(DslToken.Minus).Value(OffsetDirection.Minus).Or(Keyword(DslToken.Plus).Value(OffsetDirection.Plus))
            from durations in Duration.AtLeastOnceDelimitedBy(Keyword(DslToken.Comma))
            select (direction, durations)).OptionalOrDefault((OffsetDirection.Minus, []))
        from __ in Keyword(DslToken.At)
        from at in TimeOfDay
        from zone in Zone
        select (TriggerClause)new OnDateClause(path, offsets.direction, new NodeList<DurationLiteral>(offsets.durations), at, zone);

    static readonly TokenListParser<DslToken, TriggerClause> OnSegment =
        from change in Keyword(DslToken.Entered).Value(SegmentChange.Entered).Or(Keyword(DslToken.Exited).Value(SegmentChange.Exited))
        from _ in Keyword(DslToken.Segment)
        from name in Name.Named("a segment name")
        select (TriggerClause)new OnSegmentClause(change, name);

    static readonly TokenListParser<DslToken, TimeOfDayRange> SendHours =
        from start in TimeOfDay
        from _ in Keyword(DslToken.And)
        from end in TimeOfDay
        from zone in Zone
        select new TimeOfDayRange(start, end, zone);

    static readonly TokenListParser<DslToken, TimeOfDayRange> QuietHours =
        from start in TimeOfDay
        from _ in Keyword(DslToken.To)
        from end in TimeOfDay
        from zone in Zone
        select new TimeOfDayRange(start, end, zone);

    static readonly TokenListParser<DslToken, CapLiteral> Cap =
        from count in WholeNumber
        from _ in Keyword(DslToken.Per)
        from per in Duration
        select new CapLiteral(count, per);

    static readonly TokenListParser<DslToken, TriggerClause> Clause =
        Keyword(DslToken.On).IgnoreThen(OnEvent.Or(OnDate).Or(OnSegment))
            .Or(Keyword(DslToken.Wait).IgnoreThen(Duration).Select(d => (TriggerClause)new WaitClause(d)))
            .Or(Keyword(DslToken.Cancel).IgnoreThen(Keyword(DslToken.If)).IgnoreThen(EventPattern)
                .Select(e => (TriggerClause)new CancelIfClause(e)))
            .Or(Keyword(DslToken.Audience).IgnoreThen(Condition).Select(c => (TriggerClause)new AudienceClause(c)))
            .Or(Keyword(DslToken.Send).IgnoreThen(
                Keyword(DslToken.Between).IgnoreThen(SendHours).Select(h => (TriggerClause)new SendWindowClause(h))
                    .Or(from channel in Name.Named("a channel (email, sms, push, webpush, inapp, whatsapp or webhook)")
                        from template in Text.Named("a template name in quotes")
                        select (TriggerClause)new SendMessageClause(channel, template))))
            .Or(Keyword(DslToken.At).IgnoreThen(Keyword(DslToken.Most)).IgnoreThen(Cap).Select(c => (TriggerClause)new AtMostClause(c)))
            .Or(Keyword(DslToken.Active).IgnoreThen(
                (from _ in Keyword(DslToken.From)
                 from start in Date
                 from end in Keyword(DslToken.To).IgnoreThen(Date).Select(d => (LocalDate?)d).OptionalOrDefault()
                 select (TriggerClause)new ActiveClause(start, end))
                .Or(Keyword(DslToken.To).IgnoreThen(Date).Select(d => (TriggerClause)new ActiveClause(null, d)))))
            .Or(from _ in Keyword(DslToken.Goal)
                from pattern in EventPattern
                from __ in Keyword(DslToken.Within)
                from within in Duration
                from revenue in Keyword(DslToken.Revenue).IgnoreThen(Path.Named("a path such as properties.total")).Select(p => (PathOperand?)p).OptionalOrDefault()
                select (TriggerClause)new GoalClause(pattern, within, revenue))
            .Or(Keyword(DslToken.Transactional).Select(_ => (TriggerClause)new TransactionalClause()))
            .Or(Keyword(DslToken.Control).IgnoreThen(Keyword(DslToken.Group)).IgnoreThen(Percent).Select(p => (TriggerClause)new ControlGroupClause(p)))
            .Marked();

    // ---- Rules --------------------------------------------------------------------------------------------

    static readonly TokenListParser<DslToken, Rule> SegmentRule =
        (from _ in Keyword(DslToken.Segment)
         from name in Name.Named("a segment name")
         from __ in Keyword(DslToken.Equal)
         select name)
        .Then(name => Condition.Select(c => (Rule)new SegmentRule(name, c)))
        .ThenEnd("`and`", "`or`");

    static readonly TokenListParser<DslToken, Rule> TriggerRule =
        from _ in Keyword(DslToken.Trigger)
        from name in Name.Named("a trigger name")
        from clauses in Clause.UntilEnd()
        select (Rule)new TriggerRule(name, new NodeList<TriggerClause>(clauses));

    static readonly TokenListParser<DslToken, Rule> PolicyRule =
        Keyword(DslToken.Policy).IgnoreThen(
            Keyword(DslToken.Frequency).IgnoreThen(Keyword(DslToken.Cap)).IgnoreThen(Cap.AtLeastOnceDelimitedBy(Keyword(DslToken.Comma)))
                .Select(caps => (Rule)new FrequencyCapPolicy(new NodeList<CapLiteral>(caps)))
                .ThenEnd("`,`")
                .Or(Keyword(DslToken.Quiet).IgnoreThen(Keyword(DslToken.Hours)).IgnoreThen(QuietHours)
                    .Select(h => (Rule)new QuietHoursPolicy(h))
                    .ThenEnd()));

    static readonly TokenListParser<DslToken, Rule> FunnelRule =
        (from _ in Keyword(DslToken.Funnel)
         from name in Name.Named("a funnel name")
         from __ in Keyword(DslToken.Equal)
         from first in EventPattern
         from rest in Keyword(DslToken.Arrow).IgnoreThen(EventPattern).AtLeastOnce()
         from ___ in Keyword(DslToken.Within)
         from within in Duration
         select (Rule)new FunnelRule(name, new NodeList<EventPattern>([first, .. rest]), within))
        .ThenEnd();

    /// <summary>One rule, which must use up its whole token range.</summary>
    public static readonly TokenListParser<DslToken, Rule> Rule =
        SegmentRule.Or(TriggerRule).Or(PolicyRule).Or(FunnelRule).Marked();
}
