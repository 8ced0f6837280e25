using EventSourcedJourneys.Dsl.Ast;

namespace EventSourcedJourneys.Dsl.Checking;

/// <summary>Walks a condition without recursion (conditions can be deep): the segments it refers to, including
/// inside event filters and aggregates, and its size.</summary>
static class SegmentReferenceWalker
{
    public static IReadOnlyList<string> Names(Condition? root)
    {
        var names = new List<string>();
        foreach (var node in Nodes(root))
        {
            if (node is SegmentReference reference)
                names.Add(reference.Name);
        }
        names.Reverse();
        return names;
    }

    /// <summary>How many conditions, operands and event patterns the condition holds itself, not counting
    /// what the segments it refers to hold.</summary>
    public static int Size(Condition? root) => Nodes(root).Count();

    static IEnumerable<object> Nodes(Condition? root)
    {
        if (root is null)
            yield break;
        var pending = new Stack<object>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            yield return node;
            switch (node)
            {
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
    }
}
