using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Compilation;

/// <summary>
/// Turns checked conditions into closures. The tree is walked once, here; evaluation only calls
/// delegates, with constants (event names, literal numbers, path keys) captured up front.
/// </summary>
sealed class ConditionCompiler(Func<string, ConditionFunc> segmentLookup)
{
    public ConditionFunc Compile(Condition condition) => condition switch
    {
        AllOf all => CompileAll(all.Operands.Select(Compile).ToArray()),
        AnyOf any => CompileAny(any.Operands.Select(Compile).ToArray()),
        Not not => Negate(Compile(not.Operand)),
        Comparison comparison => CompileComparison(comparison),
        Between between => CompileBetween(between),
        InList list => CompileInList(list),
        TextTest test => CompileTextTest(test),
        Exists exists => CompileExists(exists),
        SegmentReference reference => CompileSegmentReference(reference.Name),
        EventOccurred occurred => CompileEventOccurred(occurred),
        _ => throw new ArgumentOutOfRangeException(nameof(condition), condition, null),
    };

    static ConditionFunc Negate(ConditionFunc inner) => (in EvaluationScope s) => !inner(in s);

    static ConditionFunc CompileAll(ConditionFunc[] operands)
    {
        if (operands.Length == 2)
        {
            var (first, second) = (operands[0], operands[1]);
            return (in EvaluationScope s) => first(in s) && second(in s);
        }
        return (in EvaluationScope s) =>
        {
            foreach (var operand in operands)
            {
                if (!operand(in s))
                    return false;
            }
            return true;
        };
    }

    static ConditionFunc CompileAny(ConditionFunc[] operands)
    {
        if (operands.Length == 2)
        {
            var (first, second) = (operands[0], operands[1]);
            return (in EvaluationScope s) => first(in s) || second(in s);
        }
        return (in EvaluationScope s) =>
        {
            foreach (var operand in operands)
            {
                if (operand(in s))
                    return true;
            }
            return false;
        };
    }

    ConditionFunc CompileComparison(Comparison comparison)
    {
        var op = comparison.Operator;
        var left = Compile(comparison.Left);
        if (comparison.Right is NumberLiteral { Value: var number })
        {
            // The common "path against a number" case skips the general value comparison.
            var numberValue = Value.Of(number);
            return (in EvaluationScope s) =>
            {
                var value = left(in s);
                return value is NumberValue n
                    ? ValueSemantics.Holds(n.Number.CompareTo(number), op)
                    : ValueSemantics.Compare(value, numberValue, op);
            };
        }
        if (comparison.Right is TextLiteral { Value: var text } && op is ComparisonOperator.Equal or ComparisonOperator.NotEqual)
        {
            var textValue = Value.Of(text);
            var equal = op == ComparisonOperator.Equal;
            return (in EvaluationScope s) =>
            {
                var value = left(in s);
                if (value is TextValue t)
                    return string.Equals(t.Text, text, StringComparison.Ordinal) == equal;
                return value is not null && ValueSemantics.AreEqual(value, textValue) == equal;
            };
        }
        var right = Compile(comparison.Right);
        return (in EvaluationScope s) => ValueSemantics.Compare(left(in s), right(in s), op);
    }

    ConditionFunc CompileBetween(Between between)
    {
        var subject = Compile(between.Subject);
        var low = Compile(between.Low);
        var high = Compile(between.High);
        return (in EvaluationScope s) =>
        {
            var value = subject(in s);
            var from = low(in s);
            var to = high(in s);
            return value is not null && from is not null && to is not null
                && ValueSemantics.TryOrder(value, from, out var aboveLow) && aboveLow >= 0
                && ValueSemantics.TryOrder(value, to, out var belowHigh) && belowHigh <= 0;
        };
    }

    ConditionFunc CompileInList(InList list)
    {
        var subject = Compile(list.Subject);
        var items = list.Items.Select(Literal).ToArray();
        if (items.All(i => i is TextValue))
        {
            var texts = items.Cast<TextValue>().Select(t => t.Text).ToHashSet(StringComparer.Ordinal);
            return (in EvaluationScope s) =>
            {
                var value = subject(in s);
                return value is TextValue t ? texts.Contains(t.Text) : value is not null && items.Any(i => ValueSemantics.AreEqual(value, i));
            };
        }
        return (in EvaluationScope s) =>
        {
            var value = subject(in s);
            return value is not null && items.Any(i => ValueSemantics.AreEqual(value, i));
        };
    }

    ConditionFunc CompileTextTest(TextTest test)
    {
        var subject = Compile(test.Subject);
        var needle = Compile(test.Value);
        if (test.Operator == TextOperator.StartsWith)
        {
            return (in EvaluationScope s) =>
                subject(in s) is TextValue text && needle(in s) is TextValue prefix && text.Text.StartsWith(prefix.Text, StringComparison.Ordinal);
        }
        return (in EvaluationScope s) =>
        {
            var value = needle(in s);
            return subject(in s) switch
            {
                TextValue text => value is TextValue part && text.Text.Contains(part.Text, StringComparison.Ordinal),
                ArrayValue array => value is not null && array.Items.Any(i => ValueSemantics.AreEqual(i, value)),
                _ => false,
            };
        };
    }

    ConditionFunc CompileExists(Exists exists)
    {
        var path = CompilePath(exists.Path);
        return (in EvaluationScope s) => path(in s) is not null;
    }

    ConditionFunc CompileSegmentReference(string name)
    {
        var segment = segmentLookup(name);
        return (in EvaluationScope s) => segment(s.ForSegment());
    }

    ConditionFunc CompileEventOccurred(EventOccurred occurred)
    {
        var name = occurred.Event.EventName;
        var filter = occurred.Event.Where is { } where ? Compile(where) : null;
        var window = CompileWindow(occurred.Window);
        return (in EvaluationScope s) =>
        {
            var events = EventsInWindow(in s, name, window);
            if (filter is null)
                return !events.IsEmpty;
            foreach (var e in events)
            {
                if (filter(s.WithEvent(e)))
                    return true;
            }
            return false;
        };
    }

    // ---- Operands -----------------------------------------------------------------------------------------

    public OperandFunc Compile(Operand operand)
    {
        switch (operand)
        {
            case PathOperand path:
                return CompilePath(path);
            case AgoLiteral ago:
                var duration = ago.Duration.ToDuration();
                return (in EvaluationScope s) => Value.Of(s.Now - duration);
            case Literal literal:
                var value = Literal(literal);
                return (in EvaluationScope _) => value;
            case Aggregate aggregate:
                return CompileAggregate(aggregate);
            default:
                throw new ArgumentOutOfRangeException(nameof(operand), operand, null);
        }
    }

    static Value Literal(Literal literal) => literal switch
    {
        NumberLiteral n => Value.Of(n.Value),
        TextLiteral t => Value.Of(t.Value),
        BoolLiteral b => Value.Of(b.Value),
        _ => Value.Null,
    };

    static OperandFunc CompilePath(PathOperand path)
    {
        var keys = path.Segments.ToArray();
        if (keys.Length == 1)
        {
            var key = keys[0];
            return path.Root switch
            {
                PathRoot.Traits => (in EvaluationScope s) => Lookup(s.Contact.Traits, key),
                PathRoot.Properties => (in EvaluationScope s) => s.Event is { } e ? Lookup(e.Properties, key) : null,
                _ => (in EvaluationScope s) => Lookup(s.Event?.Context ?? s.Contact.LatestContext, key),
            };
        }
        return path.Root switch
        {
            PathRoot.Traits => (in EvaluationScope s) => Walk(s.Contact.Traits, keys),
            PathRoot.Properties => (in EvaluationScope s) => s.Event is { } e ? Walk(e.Properties, keys) : null,
            _ => (in EvaluationScope s) => Walk(s.Event?.Context ?? s.Contact.LatestContext, keys),
        };
    }

    static Value? Lookup(ObjectValue root, string key) =>
        root.Members.TryGetValue(key, out var value) ? ValueSemantics.Present(value) : null;

    static Value? Walk(ObjectValue root, string[] keys)
    {
        Value? current = root;
        foreach (var key in keys)
        {
            if (current is not ObjectValue o || !o.Members.TryGetValue(key, out current))
                return null;
        }
        return ValueSemantics.Present(current);
    }

    OperandFunc CompileAggregate(Aggregate aggregate)
    {
        var name = aggregate.Event.EventName;
        var filter = aggregate.Event.Where is { } where ? Compile(where) : null;
        var window = CompileWindow(aggregate.Window);
        switch (aggregate.Function)
        {
            case AggregateFunction.Count when filter is null:
                return (in EvaluationScope s) => Value.Of(EventsInWindow(in s, name, window).Length);
            case AggregateFunction.Count:
                return (in EvaluationScope s) =>
                {
                    var count = 0;
                    foreach (var e in EventsInWindow(in s, name, window))
                    {
                        if (filter(s.WithEvent(e)))
                            count++;
                    }
                    return Value.Of(count);
                };
            case AggregateFunction.First or AggregateFunction.Last:
                var earliest = aggregate.Function == AggregateFunction.First;
                return (in EvaluationScope s) =>
                {
                    var events = EventsInWindow(in s, name, window);
                    for (var i = 0; i < events.Length; i++)
                    {
                        var e = events[earliest ? i : events.Length - 1 - i];
                        if (filter is null || filter(s.WithEvent(e)))
                            return Value.Of(e.Timestamp);
                    }
                    return null;
                };
            default:
                return CompileNumericAggregate(aggregate.Function, name, filter, window, CompilePath(aggregate.Of!));
        }
    }

    /// <summary>sum, min, max and avg over a numeric property of the counted events; events whose property
    /// is missing or not a number are skipped.</summary>
    static OperandFunc CompileNumericAggregate(AggregateFunction function, string name, ConditionFunc? filter, WindowStart window, OperandFunc of) =>
        (in EvaluationScope s) =>
        {
            decimal sum = 0, min = decimal.MaxValue, max = decimal.MinValue;
            var numbers = 0;
            try
            {
                foreach (var e in EventsInWindow(in s, name, window))
                {
                    var scope = s.WithEvent(e);
                    if (filter is not null && !filter(in scope))
                        continue;
                    if (of(in scope) is not { } value || !ValueSemantics.TryNumber(value, out var number))
                        continue;
                    numbers++;
                    switch (function)
                    {
                        case AggregateFunction.Min:
                            min = number < min ? number : min;
                            break;
                        case AggregateFunction.Max:
                            max = number > max ? number : max;
                            break;
                        default:
                            sum += number;
                            break;
                    }
                }
            }
            catch (OverflowException)
            {
                // A sum beyond ±7.9e28 has no meaningful comparison; treat it as missing.
                return null;
            }
            return function switch
            {
                AggregateFunction.Sum => Value.Of(sum),
                _ when numbers == 0 => null,
                AggregateFunction.Min => Value.Of(min),
                AggregateFunction.Max => Value.Of(max),
                _ => Value.Of(sum / numbers),
            };
        };

    // ---- Windows ------------------------------------------------------------------------------------------

    /// <summary>Returns the earliest instant a window admits, given the scope.</summary>
    delegate Instant WindowStart(in EvaluationScope scope);

    static WindowStart CompileWindow(Window window)
    {
        switch (window.Kind)
        {
            case WindowKind.InLast:
                var length = window.Length!.ToDuration();
                return (in EvaluationScope s) => s.Now - length;
            case WindowKind.SinceEntry:
                return (in EvaluationScope s) => s.Entry ?? s.Now;
            default:
                return (in EvaluationScope _) => Instant.MinValue;
        }
    }

    /// <summary>The contact's events with this name from the window's start to now, both included.</summary>
    static ReadOnlySpan<RecordedEvent> EventsInWindow(in EvaluationScope s, string name, WindowStart window)
    {
        var events = s.Contact.EventsNamed(name);
        if (events.IsEmpty)
            return events;
        var from = LowerBound(events, window(in s));
        var to = UpperBound(events, s.Now);
        return from < to ? events[from..to] : [];
    }

    /// <summary>First index whose timestamp is at or after <paramref name="instant"/>.</summary>
    static int LowerBound(ReadOnlySpan<RecordedEvent> events, Instant instant)
    {
        int low = 0, high = events.Length;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (events[mid].Timestamp < instant)
                low = mid + 1;
            else
                high = mid;
        }
        return low;
    }

    /// <summary>First index whose timestamp is after <paramref name="instant"/>.</summary>
    static int UpperBound(ReadOnlySpan<RecordedEvent> events, Instant instant)
    {
        int low = 0, high = events.Length;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (events[mid].Timestamp <= instant)
                low = mid + 1;
            else
                high = mid;
        }
        return low;
    }
}
