package org.dropsift.analysis;

import java.util.Locale;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishMinimalStemFilter;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.elasticsearch.plugin.Inject;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/**
 * The English languages of analysis-common's {@code stemmer} filter, under the same name and
 * setting, so one index mapping works on distributions with and without that module.
 */
@NamedComponent("stemmer")
public final class StemmerFilterFactory implements TokenFilterFactory {
    private final String language;

    @Inject
    public StemmerFilterFactory(StemmerSettings settings) {
        this.language = settings.language().toLowerCase(Locale.ROOT);
        switch (this.language) {
            case "english", "porter", "light_english", "kstem", "minimal_english", "possessive_english" -> {
            }
            // Refused when the index is created, as analysis-common refuses an unknown one.
            default -> throw new IllegalArgumentException(
                "stemmer language [" + settings.language() + "] is not provided by the dropsift "
                    + "analysis plugin (english, porter, light_english, kstem, minimal_english, "
                    + "possessive_english)");
        }
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        return switch (language) {
            case "light_english", "kstem" -> new KStemFilter(tokenStream);
            case "minimal_english" -> new EnglishMinimalStemFilter(tokenStream);
            case "possessive_english" -> new EnglishPossessiveFilter(tokenStream);
            default -> new PorterStemFilter(tokenStream);
        };
    }
}
