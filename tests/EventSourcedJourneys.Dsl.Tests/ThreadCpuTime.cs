using System.Diagnostics;
using System.Globalization;

namespace EventSourcedJourneys.Dsl.Tests;

/// <summary>
/// CPU time spent by the calling thread, which is what "no more than a second of CPU" means: wall-clock
/// time on a shared two-core machine also counts other processes and tests. Linux reports it in
/// /proc/thread-self/stat (10 ms ticks); elsewhere this falls back to elapsed time, a stricter measure.
/// </summary>
static class ThreadCpuTime
{
    const string StatPath = "/proc/thread-self/stat";
    const double TicksPerSecond = 100;

    public static TimeSpan Measure(Action action)
    {
        var watch = Stopwatch.StartNew();
        var before = Read();
        action();
        var after = Read();
        watch.Stop();
        return before is { } start && after is { } end ? end - start : watch.Elapsed;
    }

    static TimeSpan? Read()
    {
        if (!File.Exists(StatPath))
            return null;
        var stat = File.ReadAllText(StatPath);
        // Fields after the command name (which is in parentheses and may contain spaces): utime is 14th, stime 15th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }
}
