using NodaTime;

namespace EventSourcedJourneys.Dsl.Checking;

/// <summary>The longest durations a rule may use. Longer ones are almost always typos (<c>300d</c> for
/// <c>30d</c>) and would keep scheduled messages and event history alive for years.</summary>
public static class Limits
{
    public static readonly Duration LongestWait = Duration.FromDays(365);
    public static readonly Duration LongestLookBack = Duration.FromDays(3650);
    public static readonly Duration LongestCapPeriod = Duration.FromDays(365);
    public static readonly Duration LongestGoalWindow = Duration.FromDays(365);
    public static readonly Duration LongestDateOffset = Duration.FromDays(365);
    public static readonly Duration LongestFunnelWindow = Duration.FromDays(365);
}
