package org.dropsift.analysis;

import org.elasticsearch.plugin.settings.AnalysisSettings;
import org.elasticsearch.plugin.settings.StringSetting;

/** The {@code stemmer} filter's settings, as analysis-common names them. */
@AnalysisSettings
public interface StemmerSettings {
    @StringSetting(path = "language", defaultValue = "english")
    String language();
}
