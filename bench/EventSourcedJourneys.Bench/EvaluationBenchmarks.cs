using BenchmarkDotNet.Attributes;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Bench;

public class EvaluationBenchmarks
{
    CompiledTrigger _abandonedCart = null!;
    CompiledSegment _urbanWomen = null!;
    CompiledSegment _bigSpenders = null!;
    CompiledSegment _loyalBigSpenders = null!;
    RecordedEvent _cartUpdated = null!;
    ContactSnapshot _smallContact = null!;
    ContactSnapshot _contactWithThousandEvents = null!;

    [GlobalSetup]
    public void Setup()
    {
        var document = RulesFixture.Compile(RulesFixture.IssueExamples);
        _abandonedCart = document.FindTrigger("abandoned_cart_over_100")!;
        _urbanWomen = document.FindSegment("urban_women_35_45")!;
        _bigSpenders = document.FindSegment("big_spenders")!;
        _loyalBigSpenders = document.FindSegment("loyal_big_spenders")!;
        _cartUpdated = new RecordedEvent("cart_updated", RulesFixture.Now,
            Value.Object(("total", Value.Of(149.90m)), ("currency", Value.Of("EUR"))), ObjectValue.Empty);
        _smallContact = RulesFixture.Contact(10);
        _contactWithThousandEvents = RulesFixture.Contact(1_000);
        if (!_abandonedCart.MatchesEvent(_cartUpdated, _smallContact, RulesFixture.Now) || !_urbanWomen.Contains(_smallContact, RulesFixture.Now)
            || !_loyalBigSpenders.Contains(_contactWithThousandEvents, RulesFixture.Now))
            throw new InvalidOperationException("The fixture no longer matches the rules it measures.");
    }

    [Benchmark]
    public bool AbandonedCartTriggerPredicate() => _abandonedCart.MatchesEvent(_cartUpdated, _smallContact, RulesFixture.Now);

    [Benchmark]
    public bool UrbanWomenSegmentOnSmallContact() => _urbanWomen.Contains(_smallContact, RulesFixture.Now);

    [Benchmark]
    public bool UrbanWomenSegmentOnContactWithThousandEvents() => _urbanWomen.Contains(_contactWithThousandEvents, RulesFixture.Now);

    [Benchmark]
    public bool BigSpendersOverThousandEvents() => _bigSpenders.Contains(_contactWithThousandEvents, RulesFixture.Now);

    /// <summary>Filters every order of the last year by a property: the scan, not the index, dominates.</summary>
    [Benchmark]
    public bool LoyalBigSpendersOverThousandEvents() => _loyalBigSpenders.Contains(_contactWithThousandEvents, RulesFixture.Now);

    /// <summary>Building the contact's event index is the engine's cost per snapshot; measured on its own.</summary>
    [Benchmark]
    public ContactSnapshot BuildSnapshotOfThousandEvents() =>
        new(_contactWithThousandEvents.Traits, _contactWithThousandEvents.LatestContext, _contactWithThousandEvents.Events);
}
