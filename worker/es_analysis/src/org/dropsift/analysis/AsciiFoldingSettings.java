package org.dropsift.analysis;

import org.elasticsearch.plugin.settings.AnalysisSettings;
import org.elasticsearch.plugin.settings.BooleanSetting;

/** The {@code asciifolding} filter's settings, as analysis-common names them. */
@AnalysisSettings
public interface AsciiFoldingSettings {
    @BooleanSetting(path = "preserve_original", defaultValue = false)
    boolean preserveOriginal();
}
