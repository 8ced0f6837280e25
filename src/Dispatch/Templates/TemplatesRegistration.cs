using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedJourneys.Dispatch.Templates;

public static class TemplatesRegistration
{
    /// <summary>The Liquid engine and the renderer, both stateless apart from the parse cache.</summary>
    public static IServiceCollection AddJourneyTemplates(this IServiceCollection services)
    {
        services.AddSingleton<LiquidTemplates>();
        services.AddSingleton<TemplateRenderer>();
        return services;
    }

    /// <summary>The templates' document table (one per deployment; each row belongs to a workspace).</summary>
    public static StoreOptions AddJourneyTemplates(this StoreOptions options)
    {
        options.Schema.For<MessageTemplate>().Index(t => t.Name);
        return options;
    }
}
