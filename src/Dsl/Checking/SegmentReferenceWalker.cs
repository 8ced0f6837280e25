using EventSourcedJourneys.Dsl.Ast;

namespace EventSourcedJourneys.Dsl.Checking;

/// <summary>Lists the segments a condition refers to, including inside event filters and aggregates.</summary>
static class SegmentReferenceWalker
{
    public static IReadOnlyList<string> Names(Condition? root)
    {
        var names = new List<string>();
        if (root is null)
            return names;
        var pending = new Stack<object>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            switch (pending.Pop())
            {
                case SegmentReference reference:
                    names.Add(reference.Name);
                    break;
                case AllOf all:
                    foreach (var operand in all.Operands)
                        pending.Push(operand);
                    break;
                case AnyOf any:
                    foreach (var operand in any.Operands)
                        pending.Push(operand);
                    break;
                case Not not:
                    pending.Push(not.Operand);
                    break;
                case EventOccurred occurred:
                    pending.Push(occurred.Event);
                    break;
                case EventPattern { Where: { } where }:
                    pending.Push(where);
                    break;
                case Comparison comparison:
                    pending.Push(comparison.Left);
                    pending.Push(comparison.Right);
                    break;
                case Between between:
                    pending.Push(between.Subject);
                    pending.Push(between.Low);
                    pending.Push(between.High);
                    break;
                case InList list:
                    pending.Push(list.Subject);
                    break;
                case TextTest test:
                    pending.Push(test.Subject);
                    pending.Push(test.Value);
                    break;
                case Aggregate aggregate:
                    pending.Push(aggregate.Event);
                    break;
            }
        }
        names.Reverse();
        return names;
    }
}
