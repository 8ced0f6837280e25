using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Diagnostics;
using EventSourcedJourneys.Dsl.Formatting;
using EventSourcedJourneys.Dsl.Parsing;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Checking;

/// <summary>
/// Finds rules that parse but cannot mean what the marketer intended: unknown or circular segment
/// references, comparisons between incompatible values, empty or impossible windows, out-of-range
/// durations, duplicate names and malformed triggers. It reports every problem it finds, not just the first.
/// </summary>
public static class RuleChecker
{
    public static IReadOnlyList<Diagnostic> Check(RuleDocument document, SourceMap spans, IReadOnlySet<string>? namesOfBrokenRules = null)
    {
        var run = new CheckRun(document, spans, namesOfBrokenRules ?? new HashSet<string>());
        run.CheckAll();
        return run.Bag.ToList();
    }

    /// <summary>How many segments deep a definition may reach through <c>segment …</c> references.</summary>
    public const int MaxSegmentDepth = 32;

    /// <summary>
    /// How many conditions one rule may stand for once every segment it uses is written out in its place, each
    /// use counted again. Evaluation does that work on every contact, so ten segments that each use the previous
    /// one three times would cost 3¹⁰ conditions per contact; this bounds it (about a millisecond at most).
    /// </summary>
    public const int MaxExpandedSize = 100_000;

    /// <summary>Where a condition sits decides what it may refer to.</summary>
    readonly record struct Scope(bool HasEvent, bool HasEntry, string Owner);

    sealed class CheckRun(RuleDocument document, SourceMap spans, IReadOnlySet<string> broken)
    {
        public DiagnosticBag Bag { get; } = new();

        readonly Dictionary<string, SegmentRule> _segments = new(StringComparer.Ordinal);
        /// <summary>Each segment's size with the segments it uses written out (see <see cref="MaxExpandedSize"/>).</summary>
        readonly Dictionary<string, long> _expandedSizes = new(StringComparer.Ordinal);
        SourceSpan _ruleSpan = SourceSpan.DocumentStart;

        SourceSpan SpanOf(object node) => spans.SpanOf(node, _ruleSpan);

        void Report(string code, object node, string message) => Bag.Add(code, SpanOf(node), message);

        /// <summary>The suggestion compares the name with every segment, so it is only worked out for a reported problem.</summary>
        void ReportUnknownSegment(object node, string name) =>
            Bag.Add(DiagnosticCodes.UnknownSegment, SpanOf(node), () => $"unknown segment `{name}`{Suggestions.DidYouMean(name, _segments.Keys)}");

        static int LineOf(SourceSpan span) => span.Line;

        public void CheckAll()
        {
            CheckNames();
            foreach (var rule in document.Rules)
            {
                if (Bag.IsFull)
                    return;
                _ruleSpan = spans.SpanOf(rule, SourceSpan.DocumentStart);
                switch (rule)
                {
                    case SegmentRule segment:
                        CheckCondition(segment.Condition, new Scope(HasEvent: false, HasEntry: false, $"segment `{segment.Name}`"));
                        break;
                    case TriggerRule trigger:
                        CheckTrigger(trigger);
                        break;
                    case FrequencyCapPolicy caps:
                        foreach (var cap in caps.Caps)
                            CheckCap(cap, caps);
                        break;
                    case QuietHoursPolicy quiet when quiet.Hours.From == quiet.Hours.To:
                        Report(DiagnosticCodes.ImpossibleWindow, quiet,
                            $"quiet hours from {Time(quiet.Hours.From)} to {Time(quiet.Hours.To)} are empty; give two different times");
                        break;
                    case FunnelRule funnel:
                        foreach (var step in funnel.Steps)
                            CheckEventPattern(step, new Scope(HasEvent: true, HasEntry: false, $"funnel `{funnel.Name}`"));
                        CheckDuration(funnel.Within, Limits.LongestFunnelWindow, "a funnel window", allowZero: false);
                        break;
                }
            }
            CheckSegmentCycles();
            CheckExpandedSizes();
        }

        void CheckNames()
        {
            var seen = new Dictionary<string, SourceSpan>(StringComparer.Ordinal);
            SourceSpan? frequencyCaps = null;
            SourceSpan? quietHours = null;
            foreach (var rule in document.Rules)
            {
                var span = spans.SpanOf(rule, SourceSpan.DocumentStart);
                switch (rule)
                {
                    case SegmentRule or TriggerRule or FunnelRule:
                        var name = NameOf(rule);
                        if (seen.TryGetValue(name, out var first))
                            Bag.Add(DiagnosticCodes.DuplicateName, span, $"`{name}` is already defined on line {LineOf(first)}; give each rule its own name");
                        else
                            seen.Add(name, span);
                        if (rule is SegmentRule segment)
                            _segments.TryAdd(segment.Name, segment);
                        break;
                    case FrequencyCapPolicy when frequencyCaps is { } earlier:
                        Bag.Add(DiagnosticCodes.DuplicateName, span, $"the frequency cap is already set on line {LineOf(earlier)}; list all caps in one policy");
                        break;
                    case FrequencyCapPolicy:
                        frequencyCaps = span;
                        break;
                    case QuietHoursPolicy when quietHours is { } earlier:
                        Bag.Add(DiagnosticCodes.DuplicateName, span, $"quiet hours are already set on line {LineOf(earlier)}");
                        break;
                    case QuietHoursPolicy:
                        quietHours = span;
                        break;
                }
            }
        }

        static string NameOf(Rule rule) => rule switch
        {
            SegmentRule s => s.Name,
            TriggerRule t => t.Name,
            FunnelRule f => f.Name,
            _ => "",
        };

        // ---- Triggers ---------------------------------------------------------------------------------------

        void CheckTrigger(TriggerRule trigger)
        {
            var owner = $"trigger `{trigger.Name}`";
            var firstOfKind = new Dictionary<Type, TriggerClause>();
            foreach (var clause in trigger.Clauses)
            {
                var kind = clause is OnDateClause or OnSegmentClause ? typeof(OnEventClause) : clause.GetType();
                if (clause is not CancelIfClause && !firstOfKind.TryAdd(kind, clause))
                {
                    Report(DiagnosticCodes.TriggerShape, clause,
                        $"{owner} already has {LineName(clause)} on line {LineOf(SpanOf(firstOfKind[kind]))}");
                    continue;
                }
                CheckClause(clause, owner);
            }

            if (!firstOfKind.ContainsKey(typeof(OnEventClause)))
                Report(DiagnosticCodes.TriggerShape, trigger, $"{owner} has no `on` line: say which event, date or segment change starts it");
            if (!firstOfKind.ContainsKey(typeof(SendMessageClause)))
                Report(DiagnosticCodes.TriggerShape, trigger, $"{owner} has no `send` line: say which channel and template to use, such as send email \"welcome\"");
        }

        static string LineName(TriggerClause clause) => clause switch
        {
            OnEventClause or OnDateClause or OnSegmentClause => "an `on` line",
            WaitClause => "a `wait` line",
            AudienceClause => "an `audience` line",
            SendMessageClause => "a `send` line for its message",
            SendWindowClause => "a `send between` line",
            AtMostClause => "an `at most` line",
            ActiveClause => "an `active` line",
            GoalClause => "a `goal` line",
            ControlGroupClause => "a `control group` line",
            _ => "a `transactional` line",
        };

        void CheckClause(TriggerClause clause, string owner)
        {
            switch (clause)
            {
                case OnEventClause on:
                    if (on.EventNames.Any(n => n.Length == 0))
                        Report(DiagnosticCodes.TriggerShape, clause, "the event name is empty");
                    if (on.Where is { } where)
                        CheckCondition(where, new Scope(HasEvent: true, HasEntry: true, owner));
                    break;
                case OnDateClause date:
                    if (date.DatePath.Root != PathRoot.Traits)
                        Report(DiagnosticCodes.MisplacedPath, date.DatePath,
                            $"a date trigger reads a date from the contact's traits: write `on date traits.…`, not `{RuleFormatter.Format(date.DatePath)}`");
                    foreach (var offset in date.Offsets)
                    {
                        if (offset.Unit is not (DurationUnit.Days or DurationUnit.Weeks))
                            Report(DiagnosticCodes.ImpossibleWindow, offset,
                                $"date offsets are whole days or weeks, such as 7d or 2w, not `{RuleFormatter.Format(offset)}`");
                        else
                            CheckDuration(offset, Limits.LongestDateOffset, "a date offset", allowZero: true);
                    }
                    break;
                case OnSegmentClause segment:
                    if (!_segments.ContainsKey(segment.Segment) && !broken.Contains(segment.Segment))
                        ReportUnknownSegment(segment, segment.Segment);
                    break;
                case WaitClause wait:
                    if (wait.Duration.Amount == 0)
                        Report(DiagnosticCodes.ImpossibleWindow, wait,
                            $"`wait {RuleFormatter.Format(wait.Duration)}` waits for nothing; remove the line to send straight away, or wait a positive duration");
                    else
                        CheckDuration(wait.Duration, Limits.LongestWait, "a wait");
                    break;
                case CancelIfClause cancel:
                    CheckEventPattern(cancel.Event, new Scope(HasEvent: true, HasEntry: true, owner));
                    break;
                case AudienceClause audience:
                    CheckCondition(audience.Condition, new Scope(HasEvent: false, HasEntry: true, owner));
                    break;
                case SendMessageClause send:
                    if (!Channels.Names.Contains(send.Channel, StringComparer.Ordinal))
                        Report(DiagnosticCodes.UnknownChannel, send,
                            $"unknown channel `{send.Channel}`" + (Suggestions.Closest(send.Channel, Channels.Names) is { } channel
                                ? $"; did you mean `{channel}`?"
                                : $"; the channels are {string.Join(", ", Channels.Names)}"));
                    if (send.Template.Length == 0)
                        Report(DiagnosticCodes.TriggerShape, send, "the template name is empty");
                    break;
                case SendWindowClause window when window.Hours.From == window.Hours.To:
                    Report(DiagnosticCodes.ImpossibleWindow, window,
                        $"`send between {Time(window.Hours.From)} and {Time(window.Hours.To)}` is an empty window; give two different times");
                    break;
                case AtMostClause atMost:
                    CheckCap(atMost.Cap, atMost);
                    break;
                case ActiveClause { From: { } from, To: { } to } active when to < from:
                    Report(DiagnosticCodes.ImpossibleWindow, active,
                        $"the trigger would stop ({Date(to)}) before it starts ({Date(from)}); swap the dates");
                    break;
                case ControlGroupClause { Percent: var percent }:
                    if (percent.Value <= 0 || percent.Value >= 100)
                        Report(DiagnosticCodes.ControlGroupOutOfRange, percent,
                            $"a control group of {percent.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}% is not a share of the contacts; give a percentage above 0 and below 100, such as 10%");
                    else if (percent.Value * 100 != decimal.Truncate(percent.Value * 100))
                        Report(DiagnosticCodes.ControlGroupOutOfRange, percent,
                            $"a control group is set in steps of 0.01%; write at most two decimals, not {percent.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}%");
                    break;
                case GoalClause goal:
                    CheckEventPattern(goal.Event, new Scope(HasEvent: true, HasEntry: true, owner));
                    if (goal.Within.Amount == 0)
                        Report(DiagnosticCodes.ImpossibleWindow, goal.Within, "`within 0` leaves no time to reach the goal; give a positive duration");
                    else
                        CheckDuration(goal.Within, Limits.LongestGoalWindow, "a goal window");
                    if (goal.Revenue is { Root: not PathRoot.Properties } revenue)
                        Report(DiagnosticCodes.MisplacedPath, revenue,
                            $"revenue is read from the goal event; write a path of its properties such as properties.total, not {revenue.Root.ToString().ToLowerInvariant()}.…");
                    break;
            }
        }

        void CheckCap(CapLiteral cap, object owner)
        {
            if (cap.Count == 0)
                Report(DiagnosticCodes.ImpossibleWindow, owner,
                    $"`{cap.Count} per {RuleFormatter.Format(cap.Per)}` never lets a message through; allow at least 1");
            if (cap.Per.Amount == 0)
                Report(DiagnosticCodes.ImpossibleWindow, cap.Per, $"`per {RuleFormatter.Format(cap.Per)}` is an empty period; give a positive duration");
            else
                CheckDuration(cap.Per, Limits.LongestCapPeriod, "a frequency cap period");
        }

        void CheckDuration(DurationLiteral duration, Duration longest, string what, bool allowZero = true)
        {
            if (duration.ToDuration() > longest)
                Report(DiagnosticCodes.DurationOutOfRange, duration,
                    $"`{RuleFormatter.Format(duration)}` is too long for {what}; the longest allowed is {longest.Days}d");
            else if (!allowZero && duration.Amount == 0)
                Report(DiagnosticCodes.ImpossibleWindow, duration, $"{what} of `{RuleFormatter.Format(duration)}` is empty");
        }

        static string Time(LocalTime time) => time.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture);

        static string Date(LocalDate date) => NodaTime.Text.LocalDatePattern.Iso.Format(date);

        // ---- Conditions -------------------------------------------------------------------------------------

        void CheckEventPattern(EventPattern pattern, Scope scope)
        {
            if (pattern.EventName.Length == 0)
                Report(DiagnosticCodes.TriggerShape, pattern, "the event name is empty");
            if (pattern.Where is { } where)
                CheckCondition(where, scope with { HasEvent = true });
        }

        void CheckCondition(Condition condition, Scope scope)
        {
            switch (condition)
            {
                case AllOf all:
                    foreach (var operand in all.Operands)
                        CheckCondition(operand, scope);
                    break;
                case AnyOf any:
                    foreach (var operand in any.Operands)
                        CheckCondition(operand, scope);
                    break;
                case Not not:
                    CheckCondition(not.Operand, scope);
                    break;
                case Comparison comparison:
                    CheckOperand(comparison.Left, scope);
                    CheckOperand(comparison.Right, scope);
                    CheckComparable(comparison, comparison.Operator, comparison.Left, comparison.Right);
                    break;
                case Between between:
                    CheckOperand(between.Subject, scope);
                    CheckOperand(between.Low, scope);
                    CheckOperand(between.High, scope);
                    CheckOrdered("`between`", between.Subject, between.Low, between.High);
                    break;
                case InList list:
                    CheckOperand(list.Subject, scope);
                    var subjectType = OperandTypes.Of(list.Subject);
                    foreach (var item in list.Items)
                    {
                        var itemType = OperandTypes.Of(item);
                        if (subjectType != OperandType.Unknown && itemType != subjectType)
                            Report(DiagnosticCodes.TypeMismatch, item,
                                $"`{RuleFormatter.Format(list.Subject)}` is {OperandTypes.Describe(subjectType)}, so it can never equal {RuleFormatter.Format(item)}, which is {OperandTypes.Describe(itemType)}");
                    }
                    break;
                case TextTest test:
                    CheckOperand(test.Subject, scope);
                    CheckOperand(test.Value, scope);
                    var verb = test.Operator == TextOperator.Contains ? "`contains`" : "`starts with`";
                    if (OperandTypes.Of(test.Subject) is OperandType.Number or OperandType.Time or OperandType.Flag)
                        Report(DiagnosticCodes.TypeMismatch, test.Subject,
                            $"{verb} looks inside texts and lists, but `{RuleFormatter.Format(test.Subject)}` is {OperandTypes.Describe(OperandTypes.Of(test.Subject))}");
                    else if (test.Operator == TextOperator.StartsWith && OperandTypes.Of(test.Value) is not (OperandType.Text or OperandType.Unknown))
                        Report(DiagnosticCodes.TypeMismatch, test.Value,
                            $"`starts with` needs a text, but {RuleFormatter.Format(test.Value)} is {OperandTypes.Describe(OperandTypes.Of(test.Value))}");
                    break;
                case Exists exists:
                    CheckOperand(exists.Path, scope);
                    break;
                case SegmentReference reference:
                    if (!_segments.ContainsKey(reference.Name) && !broken.Contains(reference.Name))
                        ReportUnknownSegment(reference, reference.Name);
                    break;
                case EventOccurred occurred:
                    CheckEventPattern(occurred.Event, scope);
                    CheckWindow(occurred.Window, scope);
                    break;
            }
        }

        void CheckOperand(Operand operand, Scope scope)
        {
            switch (operand)
            {
                case PathOperand { Root: PathRoot.Properties } path when !scope.HasEvent:
                    Report(DiagnosticCodes.MisplacedPath, path,
                        $"`{RuleFormatter.Format(path)}` needs an event to read from: use it inside `event \"…\" where …`, an aggregate such as sum(…), or a trigger's `on event … where …`");
                    break;
                case AgoLiteral ago:
                    CheckDuration(ago.Duration, Limits.LongestLookBack, "a look-back");
                    break;
                case Aggregate aggregate:
                    if (aggregate.Of is { Root: not PathRoot.Properties } of)
                        Report(DiagnosticCodes.MisplacedPath, of,
                            $"{aggregate.Function.ToString().ToLowerInvariant()} reads a property of the counted events: write `properties.…`, not `{RuleFormatter.Format(of)}`");
                    CheckEventPattern(aggregate.Event, scope);
                    CheckWindow(aggregate.Window, scope);
                    break;
            }
        }

        void CheckWindow(Window window, Scope scope)
        {
            switch (window.Kind)
            {
                case WindowKind.SinceEntry when !scope.HasEntry:
                    Report(DiagnosticCodes.ImpossibleWindow, window,
                        $"`since entry` only has a meaning inside a trigger, and {scope.Owner} is not one; use `in last …` or `ever`");
                    break;
                case WindowKind.InLast when window.Length!.Amount == 0:
                    Report(DiagnosticCodes.ImpossibleWindow, window,
                        $"`in last {RuleFormatter.Format(window.Length)}` is an empty window; give a positive duration");
                    break;
                case WindowKind.InLast:
                    CheckDuration(window.Length!, Limits.LongestLookBack, "a look-back window");
                    break;
            }
        }

        void CheckComparable(object node, ComparisonOperator op, Operand left, Operand right)
        {
            if (op is ComparisonOperator.Equal or ComparisonOperator.NotEqual)
            {
                var (l, r) = (OperandTypes.Of(left), OperandTypes.Of(right));
                if (l != OperandType.Unknown && r != OperandType.Unknown && l != r)
                    Report(DiagnosticCodes.TypeMismatch, node,
                        $"`{RuleFormatter.Format(left)}` is {OperandTypes.Describe(l)} and {RuleFormatter.Format(right)} is {OperandTypes.Describe(r)}, so they are never equal");
                return;
            }
            CheckOrdered($"`{RuleFormatter.Format(op)}`", left, right);
        }

        /// <summary>Ordering works on numbers and on times, never across them.</summary>
        void CheckOrdered(string what, params Operand[] operands)
        {
            OperandType? known = null;
            foreach (var operand in operands)
            {
                var type = OperandTypes.Of(operand);
                if (type is OperandType.Text or OperandType.Flag)
                {
                    Report(DiagnosticCodes.TypeMismatch, operand,
                        $"{what} compares numbers or times, but {RuleFormatter.Format(operand)} is {OperandTypes.Describe(type)}");
                    return;
                }
                if (type == OperandType.Unknown)
                    continue;
                if (known is { } other && other != type)
                {
                    Report(DiagnosticCodes.TypeMismatch, operand,
                        $"{what} cannot compare {OperandTypes.Describe(other)} with {RuleFormatter.Format(operand)}, which is {OperandTypes.Describe(type)}");
                    return;
                }
                known = type;
            }
        }

        // ---- Segment cycles ---------------------------------------------------------------------------------

        /// <summary>
        /// Depth-first over segment references, with an explicit stack: a document can chain thousands of
        /// segments, and neither this check nor evaluation may recurse that deep.
        /// </summary>
        void CheckSegmentCycles()
        {
            var references = _segments.ToDictionary(
                s => s.Key,
                s => SegmentReferences(s.Value.Condition).Where(_segments.ContainsKey).Distinct().ToArray(),
                StringComparer.Ordinal);
            var uses = _segments.ToDictionary(s => s.Key, s => SegmentReferences(s.Value.Condition).Where(_segments.ContainsKey).ToArray(), StringComparer.Ordinal);
            var onPath = new HashSet<string>(StringComparer.Ordinal);
            var depth = new Dictionary<string, int>(StringComparer.Ordinal);
            var reportedCycles = new HashSet<string>(StringComparer.Ordinal);
            var reportedDepth = false;

            foreach (var root in _segments.Keys)
            {
                if (depth.ContainsKey(root))
                    continue;
                var stack = new List<(string Name, int Next)> { (root, 0) };
                onPath.Add(root);
                while (stack.Count > 0)
                {
                    var (name, next) = stack[^1];
                    var children = references[name];
                    if (next < children.Length)
                    {
                        stack[^1] = (name, next + 1);
                        var child = children[next];
                        if (onPath.Contains(child))
                            ReportCycle(stack, child, reportedCycles);
                        else if (!depth.ContainsKey(child))
                        {
                            stack.Add((child, 0));
                            onPath.Add(child);
                        }
                        continue;
                    }
                    depth[name] = 1 + children.Select(c => depth.GetValueOrDefault(c)).DefaultIfEmpty(0).Max();
                    // A reference back into the current path is a circle, reported above; it adds nothing here.
                    _expandedSizes[name] = ExpandedSize(SegmentReferenceWalker.Size(_segments[name].Condition), uses[name]);
                    if (depth[name] > MaxSegmentDepth && !reportedDepth)
                    {
                        reportedDepth = true;
                        Bag.Add(DiagnosticCodes.TooDeeplyNested, spans.SpanOf(_segments[name], SourceSpan.DocumentStart),
                            $"segment `{name}` is built on more than {MaxSegmentDepth} levels of other segments; flatten some of them");
                    }
                    onPath.Remove(name);
                    stack.RemoveAt(stack.Count - 1);
                }
            }
        }

        long ExpandedSize(int own, IEnumerable<string> uses)
        {
            long size = own;
            foreach (var use in uses)
                size = Math.Min(size + _expandedSizes.GetValueOrDefault(use), MaxExpandedSize + 1L);
            return size;
        }

        bool IsOverExpandedSize(string segment) => _expandedSizes.GetValueOrDefault(segment) > MaxExpandedSize;

        /// <summary>Reports the rules and trigger lines that stand for too many conditions; only the first ones in a
        /// chain, since everything built on them is too large for the same reason.</summary>
        void CheckExpandedSizes()
        {
            foreach (var rule in document.Rules)
            {
                switch (rule)
                {
                    case SegmentRule segment when IsOverExpandedSize(segment.Name):
                        if (!SegmentReferences(segment.Condition).Any(IsOverExpandedSize))
                            Bag.Add(DiagnosticCodes.TooLargeToEvaluate, spans.SpanOf(segment, SourceSpan.DocumentStart),
                                $"segment `{segment.Name}` is too large to evaluate: with the segments it uses written out (each use counted), it holds more than {MaxExpandedSize:N0} conditions; use fewer or smaller segments");
                        break;
                    case TriggerRule trigger:
                        foreach (var clause in trigger.Clauses)
                            CheckExpandedSize(clause, ConditionOf(clause), $"{LineName(clause)} of trigger `{trigger.Name}`");
                        break;
                    case FunnelRule funnel:
                        foreach (var step in funnel.Steps)
                            CheckExpandedSize(step, step.Where, $"a step of funnel `{funnel.Name}`");
                        break;
                }
            }
        }

        void CheckExpandedSize(object node, Condition? condition, string what)
        {
            if (condition is null)
                return;
            var uses = SegmentReferences(condition).Where(_segments.ContainsKey).ToArray();
            if (uses.Any(IsOverExpandedSize) || ExpandedSize(SegmentReferenceWalker.Size(condition), uses) <= MaxExpandedSize)
                return;
            Bag.Add(DiagnosticCodes.TooLargeToEvaluate, spans.SpanOf(node, SourceSpan.DocumentStart),
                $"{what} is too large to evaluate: with the segments it uses written out (each use counted), it holds more than {MaxExpandedSize:N0} conditions; use fewer or smaller segments");
        }

        static Condition? ConditionOf(TriggerClause clause) => clause switch
        {
            OnEventClause on => on.Where,
            CancelIfClause cancel => cancel.Event.Where,
            AudienceClause audience => audience.Condition,
            GoalClause goal => goal.Event.Where,
            _ => null,
        };

        /// <summary>Reports the circle that runs from <paramref name="start"/> down the current path and back. A long
        /// circle is named by its first and last few segments: thousands of names would help no one.</summary>
        void ReportCycle(List<(string Name, int Next)> path, string start, HashSet<string> reported)
        {
            if (Bag.IsFull)
            {
                // Counted as one more problem, without the work of describing it.
                Bag.Add(DiagnosticCodes.SegmentCycle, SourceSpan.DocumentStart, () => "");
                return;
            }
            var cycle = path.Select(f => f.Name).SkipWhile(n => n != start).ToList();
            if (!reported.Add(string.Join("\u0000", cycle.Order(StringComparer.Ordinal))))
                return;
            const int Shown = 6;
            var names = cycle.Count <= Shown
                ? cycle.Append(start).Select(n => $"`{n}`")
                : cycle.Take(Shown - 2).Select(n => $"`{n}`").Append("…").Concat(cycle.TakeLast(2).Append(start).Select(n => $"`{n}`"));
            var description = string.Join(" → ", names) + (cycle.Count > Shown ? $" ({cycle.Count:N0} segments)" : "");
            Bag.Add(DiagnosticCodes.SegmentCycle, spans.SpanOf(_segments[start], SourceSpan.DocumentStart),
                cycle.Count == 1
                    ? $"segment `{start}` refers to itself"
                    : $"segments refer to each other in a circle: {description}; one of them must stop referring to the next");
        }

        /// <summary>Segment names referred to anywhere in a condition. Iterative: conditions can be deep.</summary>
        public static IEnumerable<string> SegmentReferences(Condition root) => SegmentReferenceWalker.Names(root);
    }
}
