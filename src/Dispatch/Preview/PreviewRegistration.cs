using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedJourneys.Dispatch.Preview;

public static class PreviewRegistration
{
    /// <summary>The preview runner and its document table.</summary>
    public static IServiceCollection AddRulePreviews(this IServiceCollection services)
    {
        services.AddSingleton<RulePreviewRunner>();
        services.ConfigureMarten(options => options.Schema.For<RulePreview>());
        return services;
    }
}
