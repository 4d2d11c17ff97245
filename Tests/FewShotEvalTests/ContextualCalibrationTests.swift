import Testing
@testable import FewShotEval

@Suite struct ContextualCalibrationTests {
    @Test func contentFreeMeanAveragesNormalisedVectors() {
        // [2, 1, 1] normalises to [0.5, 0.25, 0.25]; mean with [0.3, 0.5, 0.2] is [0.4, 0.375, 0.225].
        let calibration = ContextualCalibration(contentFreeVectors: [[2, 1, 1], [0.3, 0.5, 0.2]])
        let expected = [0.4, 0.375, 0.225]
        for (value, want) in zip(calibration.contentFreeProbabilities, expected) {
            #expect(abs(value - want) < 1e-12)
        }
    }

    @Test func calibratedScoresDivideByContentFreeAndRenormalise() {
        // p_cf = [0.5, 0.3, 0.2]; p = [0.5, 0.35, 0.15] -> [1, 7/6, 0.75] / (35/12) = [12/35, 14/35, 9/35].
        let calibration = ContextualCalibration(contentFreeVectors: [[0.6, 0.2, 0.2], [0.4, 0.4, 0.2]])
        let calibrated = calibration.calibrated([0.5, 0.35, 0.15])
        let expected = [12.0 / 35, 14.0 / 35, 9.0 / 35]
        for (value, want) in zip(calibrated, expected) {
            #expect(abs(value - want) < 1e-12)
        }
        #expect(ContextualCalibration.predictedLabel([0.5, 0.35, 0.15]) == 0)
        #expect(ContextualCalibration.predictedLabel(calibrated) == 1)
    }

    @Test func uniformContentFreeKeepsRanking() {
        let calibration = ContextualCalibration(contentFreeVectors: [[1, 1, 1, 1]])
        let p = [0.1, 0.4, 0.3, 0.2]
        #expect(ContextualCalibration.predictedLabel(calibration.calibrated(p)) == 1)
    }

    @Test func tiesGoToTheFirstLabel() {
        #expect(ContextualCalibration.predictedLabel([0.5, 0.5]) == 0)
        #expect(ContextualCalibration.predictedLabel([0.2, 0.4, 0.4]) == 1)
    }
}
