using NodaTime;

namespace EventSourcedJourneys.Api.Hosting;

/// <summary>Lets Marten stamp events from the same <see cref="IClock"/> the domain reads (a FakeClock in tests).</summary>
public sealed class ClockTimeProvider(IClock clock) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => clock.GetCurrentInstant().ToDateTimeOffset();
}
