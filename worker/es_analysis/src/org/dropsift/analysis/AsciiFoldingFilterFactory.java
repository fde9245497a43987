package org.dropsift.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.elasticsearch.plugin.Inject;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** analysis-common's {@code asciifolding} filter: "café" is indexed as "cafe". */
@NamedComponent("asciifolding")
public final class AsciiFoldingFilterFactory implements TokenFilterFactory {
    private final boolean preserveOriginal;

    @Inject
    public AsciiFoldingFilterFactory(AsciiFoldingSettings settings) {
        this.preserveOriginal = settings.preserveOriginal();
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new ASCIIFoldingFilter(tokenStream, preserveOriginal);
    }

    @Override
    public TokenStream normalize(TokenStream tokenStream) {
        // Keyword normalizers and the terms of wildcard and prefix queries are folded too.
        return new ASCIIFoldingFilter(tokenStream, false);
    }
}
